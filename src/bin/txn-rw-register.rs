//! `txn-rw-register` node (Maelstrom `-w txn-rw-register`, Gossip Glomers 6a–6c): totally
//! available transactions, replicated in batches; strategy from `GLOMERS_TXN` (see
//! `glomers::workloads::txn_rw_register::strategy`).

fn main() {
    glomers::runtime::main(
        "txn-rw-register",
        glomers::workloads::TxnRwRegister::from_env(),
    );
}
