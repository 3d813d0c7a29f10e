pub mod keygen;
pub mod sandbox;
