// include_dir! embeds catalog/ and templates/ at compile time; cargo must
// rebuild when a file there changes or is added (it does not track that itself).
fn main() {
    println!("cargo:rerun-if-changed=catalog");
    println!("cargo:rerun-if-changed=templates");
}
