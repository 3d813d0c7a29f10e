pub mod keygen;
pub mod sandbox;
pub mod serve;
