//! The Maelstrom-compatible test harness behind the `glomers` binary.
//!
//! **An op's life.** The [`registry`] names, for the `-w` workload, its generator and
//! client ([`clients`]), its checker ([`checkers`]) and, for `--sim`, our in-process node.
//! The runner ([`run`]) staggers ops at `--rate`; a free worker asks the workload's
//! *generator* for the next op, records the invocation in the [`history`], and hands the op
//! to its *client* (one per worker process, with its own state), which sends zero, one or
//! several requests through the simulated *network* ([`net`]: latency, partitions from the
//! nemesis, optional faults). The network delivers each request to a *node* through a
//! [`hosts`] implementation — a child process on stdin/stdout in real time, or our own
//! sans-IO node core in virtual time — and the node may talk to other nodes and to the
//! KV [`services`] before it replies. The reply travels back through the network to the
//! client, which turns it into the op's completion value (an `error` reply or a timeout is
//! mapped to `fail` or `info`); the completion goes into the history and the worker is
//! free again. After the main phase (and the final phase of workloads that have one), the
//! [`checkers`] read the whole history plus the network's message counts and produce
//! Maelstrom's results map, which [`results`] writes as results.edn/json, the console
//! summary, plots and the run's store directory.
//!
//! The commands: [`session`] (`glomers test`, `report`, `challenges`; argv to exit status),
//! [`sweep`] (many `--sim` seeds in parallel, or a swarm of drawn configurations),
//! [`shrink`] (a failing `--sim` run to the smallest that fails the same way), [`serve`] (a
//! local browser of the store's runs), [`check`] (re-check a finished run, ours or the real
//! Maelstrom's), [`cli`] (Maelstrom's flags).
//!
//! A `--sim` run records its [`schedule`] (ops, partitions, message fates); replaying it,
//! edited or not, is how `shrink` searches, and an invalid run's results explain in words
//! what went wrong ([`checkers`]' `explain`) with a diagram of just its causal path.

pub mod check;
pub mod checkers;
pub mod cli;
pub mod clients;
pub mod command_line;
pub mod conduct;
pub mod edn;
pub mod edn_ops;
pub mod edn_stream;
pub mod flag_words;
pub mod history;
pub mod hosts;
pub mod limits;
pub mod net;
pub mod registry;
pub mod results;
pub mod run;
pub mod schedule;
pub mod serve;
pub mod services;
pub mod session;
pub mod shrink;
pub mod sweep;
pub mod which;
