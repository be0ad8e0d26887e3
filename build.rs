//! Links the `kiln` executable at a fixed address on Linux.
//!
//! A position-independent executable has about 90,000 pointers in its
//! static tables (field-spec tables, Sprig's function table, vtables) that
//! the dynamic loader must relocate at every start, touching each page of
//! `.data.rel.ro`: 700 page faults and about 4 ms before `main`, most of a
//! small `kiln render`. Linked without `-pie` they are resolved once, at
//! link time (200 page faults, 1.2 ms; measured with `perf stat` on
//! `kiln --version`). Go's default build mode links executables this way on
//! Linux too. Only the package's binaries are affected, not libraries or tests.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
