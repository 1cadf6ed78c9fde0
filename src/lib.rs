//! bucketlog: who can read, write, list or administer S3 data — derived by
//! Datalog rules that encode AWS's evaluation logic. See ARCHITECTURE.md.

pub mod catalog;
pub mod check;
pub mod classes;
pub mod collect;
pub mod config;
pub mod datalog;
pub mod diag;
pub mod diff;
pub mod facts;
pub mod glob;
pub mod graph;
pub mod index;
pub mod load;
pub mod memory;
pub mod model;
pub mod policy;
pub mod query;
pub mod repl;
pub mod report;
pub mod smt;
pub mod synth;
pub mod validate;
