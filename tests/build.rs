//! Marks the Redis tests ignored, with the reason, when this machine has no `redis-server`
//! to start, and the valgrind test when it has no `valgrind` (so they show as "ignored",
//! never as passed). Under `CI` they always run, and fail without them.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(no_redis_server)");
    println!("cargo::rustc-check-cfg=cfg(no_valgrind)");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-env-changed=PATH");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut found = false;
    let mut valgrind = false;
    for dir in std::env::split_paths(&path) {
        if dir.is_dir() {
            // Installing redis-server changes the directory: look again then.
            println!("cargo::rerun-if-changed={}", dir.display());
        }
        // The cluster tests create their cluster with `redis-cli`, which Debian's
        // `redis-server` package brings along.
        found |= Path::new(&dir).join("redis-server").is_file()
            && Path::new(&dir).join("redis-cli").is_file();
        valgrind |= Path::new(&dir).join("valgrind").is_file();
    }
    if !found && std::env::var_os("CI").is_none() {
        println!("cargo::rustc-cfg=no_redis_server");
    }
    if !valgrind && std::env::var_os("CI").is_none() {
        println!("cargo::rustc-cfg=no_valgrind");
    }
}
