//! The newcomer examples in examples/ pass their challenges under `glomers test`
//! (`cargo test` builds them into target/…/examples/).

#[path = "common/e2e.rs"]
mod e2e;

use std::path::PathBuf;

use e2e::{Store, expect};

fn example(name: &str) -> String {
    let debug = PathBuf::from(env!("CARGO_BIN_EXE_glomers"));
    let path = debug
        .parent()
        .expect("target dir")
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is not built (cargo test builds examples)",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

#[test]
fn every_example_passes_its_challenge() {
    let store = Store::new("examples");
    let cases = [
        ("echo", "-w echo --node-count 1 --time-limit 3"),
        (
            "unique_ids",
            "-w unique-ids --node-count 3 --time-limit 3 --rate 200 --availability total --nemesis partition",
        ),
        (
            "broadcast",
            "-w broadcast --node-count 5 --time-limit 3 --rate 10",
        ),
        (
            "g_counter",
            "-w g-counter --node-count 3 --rate 100 --time-limit 5 --nemesis partition",
        ),
    ];
    std::thread::scope(|s| {
        for (name, flags) in cases {
            let store = &store;
            s.spawn(move || {
                let line = format!("{flags} --bin {}", example(name));
                expect(store, &line, 0, &["Everything looks good!"]);
            });
        }
    });
}
