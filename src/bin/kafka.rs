//! `kafka` node (Maelstrom `-w kafka`, Gossip Glomers 5a–5c); strategy from the
//! `GLOMERS_KAFKA` environment variable (see `glomers::workloads::kafka::strategy`).

fn main() {
    glomers::runtime::main("kafka", glomers::workloads::Kafka::from_env());
}
