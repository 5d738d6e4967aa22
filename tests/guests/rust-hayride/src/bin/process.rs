//! `process exit CODE`: `sh -c 'exit CODE'`, waited. `process kill`: `sleep 30`, killed with
//! signal 9, waited. `process status PID`: `status` of a pid it did not start.
wit_bindgen::generate!({ path: "wit", world: "process-probe", generate_all });

use hayride::silo::process;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str).unwrap_or("") {
        "exit" => {
            let script = format!("echo from the host process; exit {}", args[2]);
            let pid = process::spawn("/bin/sh", &["-c".to_string(), script], &[]).expect("spawn");
            println!("wait: {:?}", process::wait(pid as u32));
        }
        "kill" => {
            let pid = process::spawn("sleep", &["30".to_string()], &[]).expect("spawn") as u32;
            println!("running: {:?}", process::status(pid));
            println!("kill: {:?}", process::kill(pid, 9));
            println!("wait: {:?}", process::wait(pid));
        }
        "missing" => println!("spawn: {:?}", process::spawn("/no/such/program", &[], &[])),
        "status" => println!("status: {:?}", process::status(args[2].parse().unwrap())),
        other => println!("unknown mode {other:?}"),
    }
}
