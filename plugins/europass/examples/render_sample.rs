//! Writes sample CVs as PDF files for looking at: `cargo run -p fulcrum-europass --example
//! render_sample -- OUT_DIR`.

use europass::samples;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).unwrap_or_else(|| ".".to_owned());
    for (name, cv) in [
        ("full", samples::full_cv()),
        ("cjk", samples::cjk_cv()),
        ("mixed", samples::mixed_scripts_cv()),
    ] {
        let pdf = europass::render(&cv)?;
        let path = std::path::Path::new(&out).join(format!("{name}.pdf"));
        std::fs::write(&path, &pdf)?;
        println!("{}: {} bytes", path.display(), pdf.len());
    }
    Ok(())
}
