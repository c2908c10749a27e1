//! `cargo run -p sentinel-bench --release -- [--quick] [SCENARIO…]`
//!
//! Drives a real `sentinel daemon` through its socket and CLI, exactly as users do, and prints
//! one table per scenario (see `scenarios::ALL`; default: all), side by side with supervisord,
//! PM2 and horust where they are installed (`bench/setup-peers.sh`). `--chart FILE` writes the
//! headline figures as an SVG chart. The binary is also its own test child
//! (`bench child-stamp FILE`, `bench child-fail FILE`, `bench child-write N`).

mod chart;
mod child;
mod peers;
mod procs;
mod scenarios;
mod stats;

fn main() {
    // The program's own name first, then what it was asked to do.
    let args: Vec<String> = std::env::args().collect();
    let args = &args[1..];
    match args.first().map(String::as_str) {
        Some("child-stamp") => child::stamp(&args[1]),
        Some("child-fail") => child::fail(&args[1]),
        Some("child-write") => child::write(args[1].parse().expect("a byte count")),
        _ => scenarios::run(args),
    }
}
