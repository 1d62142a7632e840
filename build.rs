//! Compiles the C shim (the variadic and longjmp-using entry points) and arranges the link:
//! soname `libbgworker.so.1`, and `bgworkerd` linked dynamically against the library so that
//! modules loaded into it share one copy of every global. (`bgworkerctl` loads no modules and
//! links the library statically.)
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/abi/variadic.c");
    println!("cargo:rerun-if-changed=src/abi/variadic_strings.c");
    println!("cargo:rerun-if-changed=include/bgworker.h");
    cc::Build::new()
        .file("src/abi/variadic.c")
        .file("src/abi/variadic_strings.c")
        .include("include")
        .flag("-std=c11")
        .flag("-Wall")
        .flag("-Wextra")
        .warnings_into_errors(true)
        .compile("bgworker_shim");

    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libbgworker.so.1");

    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out: the profile directory is three up.
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let profile_dir = out.ancestors().nth(3).expect("profile dir").to_path_buf();
    println!(
        "cargo:rustc-link-arg-bin=bgworkerd=-L{}",
        profile_dir.join("deps").display()
    );
    println!("cargo:rustc-link-arg-bin=bgworkerd=-lbgworker");
    // deps/ first: cargo refreshes the library there on every build, but copies it up beside
    // the binaries only for `cargo build`, so after `cargo test` the copy there may be stale.
    println!("cargo:rustc-link-arg-bin=bgworkerd=-Wl,-rpath,$ORIGIN/deps:$ORIGIN:$ORIGIN/../lib");
    // The soname link the loader looks for next to the binaries (dangling until the library
    // is written, a moment later in the same build).
    for dir in [profile_dir.clone(), profile_dir.join("deps")] {
        let link = dir.join("libbgworker.so.1");
        if std::fs::symlink_metadata(&link).is_err() {
            let _ = std::os::unix::fs::symlink("libbgworker.so", &link);
        }
    }
}
