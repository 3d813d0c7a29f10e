//! Writes sample CVs as PDF files for looking at: `cargo run -p fulcrum-europass --example
//! render_sample -- OUT_DIR`.

#[path = "../tests/common/mod.rs"]
mod common;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).unwrap_or_else(|| ".".to_owned());
    for (name, cv) in [
        ("full", common::full_cv()),
        ("cjk", common::cjk_cv()),
        ("mixed", common::mixed_scripts_cv()),
    ] {
        let pdf = europass::render(&cv)?;
        let path = std::path::Path::new(&out).join(format!("{name}.pdf"));
        std::fs::write(&path, &pdf)?;
        println!("{}: {} bytes", path.display(), pdf.len());
    }
    Ok(())
}
