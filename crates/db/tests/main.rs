//! The integration tests of talab-db as one test binary: one link against the dependency tree
//! instead of one per file (linking was most of a cold test build). Each module is one area.

mod copy;
mod database;
mod harness;
