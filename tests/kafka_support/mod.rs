//! A hand-driven network for kafka node tests: real [`NodeCore`]s, node↔node messages
//! held until the test delivers, drops or duplicates them (in any order), the harness's own
//! lin-kv answering at once, and client replies collected by msg_id.
#![allow(dead_code)]

use glomers::harness::services::{SimulatedService, service};
use glomers::node::{NodeCore, Rng};
use glomers::workloads::Kafka;
use glomers::workloads::kafka::Strategy;
use glomers::workloads::kafka::owner::owner_of;
use serde_json::{Value, json};

/// A message between servers, not yet delivered.
#[derive(Clone, Debug)]
pub struct Flight {
    pub src: String,
    pub dest: String,
    pub body: Value,
}

pub struct Net {
    pub now: u64,
    pub nodes: Vec<NodeCore<Kafka>>,
    pub ids: Vec<String>,
    /// Node↔node and node↔lin-kv messages, in sending order.
    pub flights: Vec<Flight>,
    /// Client replies, in arrival order.
    pub replies: Vec<Value>,
    lin_kv: Box<dyn SimulatedService + Send>,
    next_msg_id: u64,
}

impl Net {
    /// `count` nodes n0… running `strategy` (a `GLOMERS_KAFKA` text), initialised.
    pub fn new(count: usize, strategy: &str) -> Net {
        let strategy = Strategy::parse(strategy).expect("strategy");
        let ids: Vec<String> = (0..count).map(|i| format!("n{i}")).collect();
        let mut net = Net {
            now: 0,
            nodes: (0..count)
                .map(|i| NodeCore::new(Kafka::new(strategy), i as u64))
                .collect(),
            ids: ids.clone(),
            flights: Vec::new(),
            replies: Vec::new(),
            lin_kv: service("lin-kv", Rng::new(1)).expect("lin-kv"),
            next_msg_id: 1,
        };
        for (i, id) in ids.iter().enumerate() {
            let init = json!({"src":"c0","dest":id,"body":{"type":"init","node_id":id,"node_ids":ids,"msg_id":1}});
            net.nodes[i].handle_input(0, format!("{init}\n").as_bytes());
            net.collect(i);
        }
        net.replies.clear();
        net
    }

    /// A key name owned by node `owner` (of this cluster's size), distinct per `nth`.
    pub fn key_owned_by(&self, owner: usize, nth: usize) -> String {
        (0..)
            .map(|k| format!("k{k}"))
            .filter(|k| owner_of(k, self.nodes.len()) == owner)
            .nth(nth)
            .expect("a key")
    }

    /// Client `c9` sends `body` to node `node`; returns the msg_id.
    pub fn request(&mut self, node: usize, mut body: Value) -> u64 {
        let msg_id = self.next_msg_id;
        self.next_msg_id += 1;
        body["msg_id"] = json!(msg_id);
        let line = json!({"src":"c9","dest":self.ids[node],"body":body});
        self.nodes[node].handle_input(self.now, format!("{line}\n").as_bytes());
        self.collect(node);
        msg_id
    }

    /// The reply to `msg_id`, if it came.
    pub fn reply(&self, msg_id: u64) -> Option<&Value> {
        self.replies
            .iter()
            .find(|r| r["in_reply_to"].as_u64() == Some(msg_id))
    }

    /// A request, then everything delivered until quiet; returns its reply.
    pub fn call(&mut self, node: usize, body: Value) -> Value {
        let msg_id = self.request(node, body);
        self.settle();
        self.reply(msg_id).cloned().expect("a reply")
    }

    /// Writes a raw line to node `node` (as if from anyone).
    pub fn inject(&mut self, node: usize, line: &str) {
        self.nodes[node].handle_input(self.now, format!("{line}\n").as_bytes());
        self.collect(node);
    }

    fn collect(&mut self, i: usize) {
        let mut out = Vec::new();
        self.nodes[i].take_output(&mut out);
        for line in String::from_utf8(out).expect("utf8").lines() {
            let message: Value = serde_json::from_str(line).expect("json");
            let dest = message["dest"].as_str().expect("dest").to_string();
            if dest.starts_with('c') {
                self.replies.push(message["body"].clone());
            } else {
                let src = message["src"].as_str().expect("src").to_string();
                self.flights.push(Flight {
                    src,
                    dest,
                    body: message["body"].clone(),
                });
            }
        }
    }

    /// Takes flight `index` out of the network and hands it over (lin-kv answers at once).
    pub fn deliver(&mut self, index: usize) {
        let flight = self.flights.remove(index);
        self.hand_over(flight);
    }

    /// Hands `flight` over without removing anything (a duplicate delivery).
    pub fn hand_over(&mut self, flight: Flight) {
        if flight.dest == "lin-kv" {
            let mut bytes = flight.body.to_string().into_bytes();
            let body = simd_json::to_owned_value(&mut bytes).expect("body");
            if let Some(reply) = self.lin_kv.handle(&flight.src, &body) {
                let body = serde_json::from_str(&simd_json::to_string(&reply).expect("encode"))
                    .expect("reply");
                let back = Flight {
                    src: "lin-kv".into(),
                    dest: flight.src,
                    body,
                };
                self.flights.push(back);
            }
            return;
        }
        let dest = self
            .ids
            .iter()
            .position(|id| *id == flight.dest)
            .expect("node");
        let line = json!({"src":flight.src,"dest":flight.dest,"body":flight.body});
        self.nodes[dest].handle_input(self.now, format!("{line}\n").as_bytes());
        self.collect(dest);
    }

    /// Drops every flight.
    pub fn drop_all(&mut self) -> Vec<Flight> {
        std::mem::take(&mut self.flights)
    }

    /// Fires timers due within `ms` (messages stay held).
    pub fn advance(&mut self, ms: u64) {
        let until = self.now + ms;
        loop {
            let next = self.nodes.iter().filter_map(|n| n.next_deadline()).min();
            match next {
                Some(at) if at <= until => {
                    self.now = self.now.max(at);
                    for i in 0..self.nodes.len() {
                        if self.nodes[i].next_deadline().is_some_and(|d| d <= self.now) {
                            self.nodes[i].handle_timeout(self.now);
                            self.collect(i);
                        }
                    }
                }
                _ => break,
            }
        }
        self.now = until;
    }

    /// Delivers in order and fires timers, 1 ms at a time, until nothing is in flight and no
    /// timer is due within `ms` more (at most 10 virtual seconds).
    pub fn settle(&mut self) {
        for _ in 0..10_000 {
            while !self.flights.is_empty() {
                self.deliver(0);
            }
            if self.nodes.iter().all(|n| n.next_deadline().is_none()) {
                return;
            }
            self.advance(1);
        }
    }

    /// Node `node`'s messages of `key` from offset 0, by poll, after settling.
    pub fn poll_all(&mut self, node: usize, key: &str) -> Vec<(u64, Value)> {
        self.settle();
        self.poll_now(node, key)
    }

    /// Node `node`'s messages of `key` from offset 0, by poll, delivering nothing.
    pub fn poll_now(&mut self, node: usize, key: &str) -> Vec<(u64, Value)> {
        let msg_id = self.request(node, json!({"type":"poll","offsets":{key: 0}}));
        let reply = self.reply(msg_id).cloned().expect("poll answered at once");
        reply["msgs"][key]
            .as_array()
            .map(|pairs| {
                pairs
                    .iter()
                    .map(|p| (p[0].as_u64().expect("offset"), p[1].clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}
