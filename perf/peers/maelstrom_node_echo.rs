//! The echo node of the `maelstrom-node` crate (crates.io, tokio), exactly as its README
//! and examples/echo.rs show it: the peer contestant of perf/echo_throughput.rs.
//! Not compiled by glomers: scripts/throughput.sh copies it into a separate cargo project
//! under target/peers/maelstrom-node-echo/ (so tokio never becomes a glomers dependency).
use async_trait::async_trait;
use maelstrom::protocol::Message;
use maelstrom::{done, Node, Result, Runtime};
use std::sync::Arc;

pub(crate) fn main() -> Result<()> {
    Runtime::init(try_main())
}

async fn try_main() -> Result<()> {
    let handler = Arc::new(Handler::default());
    Runtime::new().with_handler(handler).run().await
}

#[derive(Clone, Default)]
struct Handler {}

#[async_trait]
impl Node for Handler {
    async fn process(&self, runtime: Runtime, req: Message) -> Result<()> {
        if req.get_type() == "echo" {
            let echo = req.body.clone().with_type("echo_ok");
            return runtime.reply(req, echo).await;
        }

        done(runtime, req)
    }
}
