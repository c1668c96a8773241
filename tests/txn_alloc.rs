//! After warm-up, a `txn-rw-register` node allocates nothing per transaction or per
//! replication exchange: client transactions (reads and writes), a peer's `txn_sync`
//! request carrying a commit (applied, answered with ours), the flush timer's requests and
//! their replies (commit log trimmed). Only calls into the node core are counted; the test
//! plays the two peers with plain strings. One test in this file, so no other test thread
//! allocates while we count.

use glomers::node::NodeCore;
use glomers::workloads::TxnRwRegister;
use serde_json::Value;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::allocations;

/// Node n0 of `["n0","n1","n2"]`; the test plays n1 and n2.
struct Driver {
    core: NodeCore<TxnRwRegister>,
    out: Vec<u8>,
    counted: u64,
    /// Commits made by n0 (one per client transaction) and by n1.
    commits: [u64; 2],
    /// Requests from n0 the test answered.
    answered: u64,
}

impl Driver {
    fn new() -> Driver {
        let mut core = NodeCore::new(TxnRwRegister::default(), 1);
        let init = b"{\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":\"n0\",\"node_ids\":[\"n0\",\"n1\",\"n2\"],\"msg_id\":1}}\n";
        core.handle_input(0, init);
        Driver {
            core,
            out: Vec::with_capacity(1 << 20),
            counted: 0,
            commits: [0, 0],
            answered: 0,
        }
    }

    fn measured(&mut self, now: u64, input: &[u8]) {
        let before = allocations();
        self.core.handle_input(now, input);
        self.core.handle_timeout(now);
        self.core.take_output(&mut self.out);
        self.counted += allocations() - before;
    }

    /// What a peer says it has: all of n0's and n1's commits.
    fn have(&self) -> String {
        format!("[{},{},0]", self.commits[0], self.commits[1])
    }

    /// One round: a client transaction, a request from n1 with its next commit, and the
    /// flush timer (rounds are 150 ms apart); then the peers answer n0's requests.
    fn round(&mut self, round: u64) {
        let now = round * 150;
        let key = round % 8;
        let txn = format!(
            "{{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{{\"type\":\"txn\",\"msg_id\":{round},\"txn\":[[\"r\",{key},null],[\"w\",{},{round}],[\"w\",{key},{round}],[\"r\",{key},null]]}}}}\n",
            (key + 3) % 8
        );
        self.commits[0] += 1;
        let n1 = self.commits[1];
        let sync = format!(
            "{{\"src\":\"n1\",\"dest\":\"n0\",\"body\":{{\"type\":\"txn_sync\",\"msg_id\":{round},\"have\":{},\"from\":{n1},\"txns\":[[{},[0,{n1},0],[{key},{round}]]]}}}}\n",
            self.have(),
            1_000_000 + round,
        );
        self.commits[1] += 1;
        self.measured(now, format!("{txn}{sync}").as_bytes());
        self.measured(now + 100, b"");
        self.answer(now + 120);
    }

    /// Answers every `txn_sync` n0 sent to n1 or n2 with everything confirmed.
    fn answer(&mut self, now: u64) {
        let mut replies = String::new();
        for line in self.out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let message: Value = serde_json::from_slice(line).expect("node output");
            let body = &message["body"];
            if body["type"] != "txn_sync" {
                continue;
            }
            let peer = message["dest"].as_str().expect("dest");
            let from = if peer == "n1" { self.commits[1] } else { 0 };
            replies.push_str(&format!(
                "{{\"src\":\"{peer}\",\"dest\":\"n0\",\"body\":{{\"type\":\"txn_sync_ok\",\"in_reply_to\":{},\"have\":{},\"from\":{from},\"txns\":[]}}}}\n",
                body["msg_id"],
                self.have()
            ));
            self.answered += 1;
        }
        self.out.clear();
        self.measured(now, replies.as_bytes());
        self.out.clear();
    }
}

#[test]
fn transactions_and_replication_allocate_nothing_after_warm_up() {
    let mut driver = Driver::new();
    for round in 0..1200 {
        if round == 200 {
            driver.counted = 0;
            driver.answered = 0;
        }
        driver.round(round);
    }
    let node = driver.core.workload();
    eprintln!(
        "{} allocations after warm-up; {} requests answered; {} commits kept",
        driver.counted,
        driver.answered,
        node.unconfirmed()
    );
    assert_eq!(driver.counted, 0, "allocated after warm-up");
    assert!(driver.answered >= 1000, "{} requests", driver.answered);
    assert_eq!(node.applied(), &[1200, 1200, 0]);
    assert!(node.unconfirmed() <= 1, "the log is trimmed");
}
