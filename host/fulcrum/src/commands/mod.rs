pub mod demo;
pub mod keygen;
pub mod migrate;
pub mod plugin;
pub mod sandbox;
pub mod serve;
pub mod tenant;
pub mod token;
