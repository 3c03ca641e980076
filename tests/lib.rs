//! Workspace-level tests live in `wast.rs` (the spec suite) and `all/` (integration tests).
