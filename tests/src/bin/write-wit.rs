//! Writes a bundled world's WIT directory: `cargo run -p morph-e2e --bin write-wit -- WORLD DIR`.
//! The real-toolchain tests use the same library call; this is for trying guests by hand.

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(world), Some(dir)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: write-wit WORLD DIR");
    };
    let contract = morph_contract::Contract::bundled();
    let id = contract.world(&world)?;
    for f in morph_contract::materialize::write_wit_dir(contract, id, std::path::Path::new(&dir))? {
        println!("{}", f.display());
    }
    Ok(())
}
