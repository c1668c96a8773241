//! `txn-list-append` node (Maelstrom `-w txn-list-append`, the "Datomic" chapters); strategy
//! from the `GLOMERS_LIST_APPEND` environment variable (see
//! `glomers::workloads::list_append`).

fn main() {
    glomers::runtime::main(
        "txn-list-append",
        glomers::workloads::ListAppend::from_env(),
    );
}
