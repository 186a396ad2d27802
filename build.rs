// include_dir! embeds catalog/ and templates/ at compile time; cargo must
// rebuild when a file there changes or is added (it does not track that itself).
//
// The test tiers: BRICKYARD_DOCKER_TESTS=1 and BRICKYARD_VALIDATORS=1 turn
// into cfgs, so that a tier that is off shows its tests as ignored (never as
// passed), and a tier that is on runs them (and fails without its tools).
fn main() {
    println!("cargo:rerun-if-changed=catalog");
    println!("cargo:rerun-if-changed=templates");
    for (var, cfg) in [
        ("BRICKYARD_DOCKER_TESTS", "docker_tests"),
        ("BRICKYARD_VALIDATORS", "validator_tests"),
        ("BRICKYARD_KUBE_TESTS", "kube_tests"),
    ] {
        println!("cargo:rerun-if-env-changed={var}");
        println!("cargo:rustc-check-cfg=cfg({cfg})");
        if std::env::var(var).is_ok_and(|v| v == "1" || v == "true") {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
}
