//! `glomers`: the Maelstrom-compatible test harness (`glomers test -w echo --bin …`).

fn main() {
    std::process::exit(glomers::harness::session::main(std::env::args_os()));
}
