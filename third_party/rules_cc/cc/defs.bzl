"""Re-exports Bazel's native C++ rules (the real rules_cc is not reachable offline)."""

cc_library = native.cc_library
cc_binary = native.cc_binary
cc_test = native.cc_test
cc_toolchain = native.cc_toolchain
cc_toolchain_suite = native.cc_toolchain_suite
cc_proto_library = native.cc_proto_library
cc_import = native.cc_import
objc_library = native.objc_library
