//! A command that tries what the sandbox tests need to see allowed or refused, and prints what
//! happened: `probe <action> [arg]`.

use std::io::{Read, Write};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `morph call … run` passes no arguments: the action may come from PROBE_ACTION then.
    let from_env = std::env::var("PROBE_ACTION").ok();
    let action = args.get(1).map(String::as_str).or(from_env.as_deref()).unwrap_or("argv");
    let arg = args.get(2).cloned().unwrap_or_default();
    match action {
        "argv" => println!("{}", args.join(" ")),
        "env" => match std::env::var(&arg) {
            Ok(v) => println!("{arg}={v}"),
            Err(_) => println!("{arg} unset"),
        },
        "env-count" => println!("{}", std::env::vars().count()),
        "read" => match std::fs::read_to_string(&arg) {
            Ok(s) => print!("{s}"),
            Err(e) => println!("read failed: {e}"),
        },
        "write" => match std::fs::write(&arg, b"written by the guest\n") {
            Ok(()) => println!("wrote {arg}"),
            Err(e) => println!("write failed: {e}"),
        },
        "connect" => match std::net::TcpStream::connect(&arg) {
            Ok(mut s) => {
                let _ = s.write_all(b"ping");
                let mut buf = [0u8; 4];
                let _ = s.read_exact(&mut buf);
                println!("connected: {}", String::from_utf8_lossy(&buf));
            }
            Err(e) => println!("connect failed: {e}"),
        },
        "stdin" => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).unwrap();
            print!("{}", s.to_uppercase());
        }
        "stderr" => eprintln!("to stderr: {arg}"),
        "sleep" => {
            // A host call that blocks: wasm code runs no instruction while it waits.
            std::thread::sleep(std::time::Duration::from_secs(arg.parse().unwrap_or(60)));
            println!("slept");
        }
        "exit" => std::process::exit(arg.parse().unwrap_or(0)),
        "panic" => panic!("the probe was asked to panic"),
        "spin" => {
            let mut x: u64 = 0;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        "alloc" => {
            // Allocates and touches `arg` MiB.
            let mib: usize = arg.parse().unwrap_or(1024);
            let mut v: Vec<Vec<u8>> = Vec::new();
            for _ in 0..mib {
                v.push(vec![1u8; 1 << 20]);
            }
            println!("allocated {} MiB", v.len());
        }
        other => {
            eprintln!("unknown action {other}");
            std::process::exit(64);
        }
    }
}
