//! Without the Python bindings (`cargo test`), binaries find libtorch's shared libraries
//! through an rpath to the directory torch-sys linked them from, so no LD_LIBRARY_PATH
//! is needed. The Python extension gets its rpath from maturin instead.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if std::env::var_os("CARGO_FEATURE_PYTHON").is_none() {
        if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
    }
}
