//! Every artifact exists, is a component (not a core module) and is reasonably small.

use fulcrum_plugin_artifacts::ALL;

/// `\0asm`, then the component-model version and layer (`0d 00 01 00`); a core module has
/// `01 00 00 00` there.
const COMPONENT_PREAMBLE: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
/// Half the admin API's 16 MiB upload limit. Components that render Europass CVs carry its
/// fonts (DejaVu Sans, Bold and Droid Sans Fallback, about 4.9 MB) and weigh about 6 MB; the
/// others stay under 0.5 MB.
const MAX_BYTES: u64 = 8 << 20;

#[test]
fn every_artifact_is_a_small_component() {
    assert!(!ALL.is_empty());
    for (name, path) in ALL {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{name}: {path}: {e}"));
        assert_eq!(bytes[..8], COMPONENT_PREAMBLE, "{name} is not a component");
        assert!(
            (bytes.len() as u64) < MAX_BYTES,
            "{name} is {} bytes, over {MAX_BYTES}",
            bytes.len()
        );
    }
}

#[test]
#[cfg(feature = "fixtures")]
fn constants_match_all() {
    assert!(ALL.contains(&("well_behaved", fulcrum_plugin_artifacts::WELL_BEHAVED)));
    assert!(ALL.contains(&("reads_files_env", fulcrum_plugin_artifacts::READS_FILES_ENV)));
}

#[test]
#[cfg(feature = "connectors")]
fn connectors_are_in_all() {
    assert!(ALL.contains(&("relode", fulcrum_plugin_artifacts::RELODE)));
    macro_rules! in_all {
        ($name:ident) => {
            assert!(ALL.iter().any(|(name, _)| *name == stringify!($name)));
        };
    }
    fulcrum_plugin_artifacts::foreach_connector!(in_all);
}

// The `foreach_fixture!` pattern: one module per fixture, and a fixture without one fails to
// compile. Here the "test" per fixture checks its component names the fixture's manifest id.
mod each_fixture {
    macro_rules! fixture_has_its_id {
        ($name:ident) => {
            #[test]
            fn $name() {
                let path = ALL.iter().find(|(n, _)| *n == stringify!($name)).unwrap().1;
                let bytes = std::fs::read(path).unwrap();
                // `<fixture>_v2` is a later build of the same plugin: same manifest id.
                let name = stringify!($name);
                let base = match name.rsplit_once("_v") {
                    Some((base, n)) if n.chars().all(|c| c.is_ascii_digit()) => base,
                    _ => name,
                };
                let id = base.replace('_', "-");
                assert!(
                    bytes.windows(id.len()).any(|w| w == id.as_bytes()),
                    "{path} does not mention its manifest id {id:?}"
                );
            }
        };
    }
    use fulcrum_plugin_artifacts::ALL;
    fulcrum_plugin_artifacts::foreach_fixture!(fixture_has_its_id);

    macro_rules! assert_test_exists {
        ($name:ident) => {
            #[allow(unused_imports)]
            use self::$name as _;
        };
    }
    fulcrum_plugin_artifacts::foreach_fixture!(assert_test_exists);
}
