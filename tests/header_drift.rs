//! `include/bgworker.h` is generated from the Rust types by the pinned cbindgen; this test fails
//! when the committed header differs from a fresh generation. `BGW_BLESS=1` rewrites it
//! (`make header`).

use std::path::Path;

#[test]
fn committed_header_matches_generated() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header")
        .write(&mut generated);
    let path = root.join("include/bgworker.h");
    if std::env::var_os("BGW_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write include/bgworker.h");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/bgworker.h is out of date with src/abi: run `make header` and commit the result"
    );
}
