//! Compiles the C shim (the variadic and longjmp-using entry points) and arranges the link:
//! soname `libbgworker.so.1`, and `bgworkerd` linked dynamically against the library so that
//! modules loaded into it share one copy of every global. (`bgworkerctl` loads no modules and
//! links the library statically.) Also builds `libbgworker_compat.so`, PostgreSQL 15's whole
//! server symbol surface (server-symbols/compat.rs), beside the library.
use std::path::PathBuf;

#[path = "server-symbols/compat.rs"]
mod compat;

fn main() {
    println!("cargo:rerun-if-changed=src/abi/variadic.c");
    println!("cargo:rerun-if-changed=src/abi/variadic_strings.c");
    println!("cargo:rerun-if-changed=include/bgworker.h");
    println!("cargo:rerun-if-changed=server-symbols/postgresql-15.symbols");
    println!("cargo:rerun-if-changed=server-symbols/compat.rs");
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
    // The compat library, beside libbgworker.so wherever it is found: deps/ (what bgworkerd's
    // RUNPATH finds first) and the profile directory (what `make install` copies).
    let compat = compat::build(&PathBuf::from("server-symbols/postgresql-15.symbols"), &out);
    println!("cargo:rustc-env=BGW_COMPAT_FILE={}", compat::FILE_NAME);
    for dir in [profile_dir.clone(), profile_dir.join("deps")] {
        std::fs::create_dir_all(&dir).expect("target directory");
        let dest = dir.join(compat::FILE_NAME);
        // Replaced by rename, so a running supervisor keeps its mapping of the old file.
        let tmp = dir.join(format!("{}.tmp", compat::FILE_NAME));
        std::fs::copy(&compat, &tmp).expect("copy the compat library");
        std::fs::rename(&tmp, &dest).expect("install the compat library");
    }
    // The soname link the loader looks for next to the binaries (dangling until the library
    // is written, a moment later in the same build).
    for dir in [profile_dir.clone(), profile_dir.join("deps")] {
        let link = dir.join("libbgworker.so.1");
        if std::fs::symlink_metadata(&link).is_err() {
            let _ = std::os::unix::fs::symlink("libbgworker.so", &link);
        }
    }
}
