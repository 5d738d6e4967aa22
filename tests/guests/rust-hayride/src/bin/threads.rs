//! `threads run PKG FUNCTION [ARGS…]`: spawn, print the id, status and what `wait` gives.
//! `threads env PKG NAME=VALUE`: spawn `env NAME` with that env var only.
//! `threads kill PKG`: spawn `spin`, kill it, print status and `wait`.
//! `threads status ID`: `status` of an id.
wit_bindgen::generate!({ path: "wit", world: "threads-probe", generate_all });

use hayride::silo::threads;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("");
    match mode {
        "run" => {
            let t = spawn(&args[2], &args[3], args[4..].to_vec(), vec![]);
            report(&t);
        }
        "env" => {
            let (k, v) = args[3].split_once('=').expect("NAME=VALUE");
            let t = spawn(&args[2], "run", vec!["env".into(), k.into()], vec![(k.into(), v.into())]);
            report(&t);
        }
        "kill" => {
            let t = spawn(&args[2], "run", vec!["spin".into()], vec![]);
            let id = t.id().unwrap();
            println!("status before kill: {:?}", threads::status(&id).map(|m| m.status));
            println!("kill: {:?}", threads::kill(&id));
            println!("wait: {:?}", t.wait().map(|o| String::from_utf8_lossy(&o).into_owned()));
            println!("status after kill: {:?}", threads::status(&id).map(|m| m.status));
        }
        "status" => println!("status: {:?}", threads::status(&args[2]).map(|m| m.status)),
        other => println!("unknown mode {other:?}"),
    }
}

fn spawn(pkg: &str, function: &str, args: Vec<String>, envs: Vec<(String, String)>) -> threads::Thread {
    match threads::spawn(pkg, function, &args, &envs) {
        Ok(t) => t,
        Err(errno) => {
            println!("spawn: errno {errno}");
            std::process::exit(0);
        }
    }
}

fn report(t: &threads::Thread) {
    let id = t.id().unwrap();
    let out = t.wait().map(|o| String::from_utf8_lossy(&o).into_owned());
    println!("wait: {out:?}");
    let meta = threads::status(&id).unwrap();
    println!("status: {:?} pkg={} function={} args={:?}", meta.status, meta.pkg, meta.function, meta.args);
    println!("group: {}", threads::group().map(|g| g.len()).unwrap_or(0));
}
