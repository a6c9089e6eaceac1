//! What the integration tests of praxis-shared share: an HTTP server on loopback, and seven.io
//! and Vonage on it, scripted. A test file says `mod support;` and uses what it needs.

// Each test file uses only part of this.
#![allow(dead_code)]

pub mod carriers;
pub mod loopback;
