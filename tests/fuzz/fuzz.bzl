"""bt_fuzz_test: one libFuzzer target per parser.

In the normal build it is a cc_test that replays the seed corpus through the
fuzz entry point (a regression test); with `--config=fuzz` (clang,
-fsanitize=fuzzer) the same target links libFuzzer's main instead, and is run
by hand: see the README.
"""

def bt_fuzz_test(name, srcs, deps = [], corpus = None):
    native.cc_test(
        name = name,
        srcs = srcs,
        deps = deps + select({
            "//tests/fuzz:fuzzing": [],
            "//conditions:default": ["//tests/fuzz:replay_main"],
        }),
        args = ["$(locations %s)" % corpus] if corpus else [],
        data = [corpus] if corpus else [],
        tags = ["fuzz"],
        linkstatic = True,
    )
