//! Rebuilds the crate when a migration is added or changed: `embed_migrations!` reads the folders at compile time, and Cargo would not otherwise notice them.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
