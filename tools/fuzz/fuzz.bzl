"""crema_fuzz_target: one libFuzzer target, its corpus replay test and its runner.

A fuzz target is a source file defining `LLVMFuzzerTestOneInput` that lives beside the code it
fuzzes (e.g. consensus/storage/snapshot_fuzzer.cc), with its seed and regression inputs in
`fuzz_corpus/<name>/` of the same package. For a target `foo_fuzzer` the macro declares:

  foo_fuzzer              the libFuzzer binary. Tagged manual: it links with -fsanitize=fuzzer,
                          which only clang has, so build it with --config=fuzz (.bazelrc).
  foo_fuzzer_corpus_test  in the default suite (any compiler, any config): replays every corpus
                          file, its prefixes and random mutants through the same entry point
                          (tools/fuzz/replay_main.cc).
  foo_fuzzer_run          `bazel run --config=fuzz //pkg:foo_fuzzer_run -- [libFuzzer flags]`
                          fuzzes with the target's limits (tools/fuzz/run_fuzzer.sh); manual.

Limits per target: `max_len` (input bytes; go above 4 KiB where the decoder's limits are bigger),
`malloc_limit_mb` (any single allocation above it is a crash), `rss_limit_mb`.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")

def crema_fuzz_target(
        name,
        srcs,
        deps = [],
        max_len = 4096,
        malloc_limit_mb = 64,
        rss_limit_mb = 2048,
        corpus_test_size = "small"):
    corpus = "fuzz_corpus/" + name
    corpus_files = native.glob([corpus + "/**"])
    support = ["//tools/fuzz:fuzz_support"]
    cc_binary(
        name = name,
        srcs = srcs,
        deps = deps + support,
        linkopts = ["-fsanitize=fuzzer"],
        tags = ["manual", "fuzz"],
        testonly = True,
    )
    cc_test(
        name = name + "_corpus_test",
        size = corpus_test_size,
        srcs = srcs,
        deps = deps + support + ["//tools/fuzz:replay_main"],
        data = corpus_files,
        args = [native.package_name() + "/" + corpus],
    )
    native.sh_binary(
        name = name + "_run",
        srcs = ["//tools/fuzz:run_fuzzer.sh"],
        data = [":" + name] + corpus_files,
        args = [
            "$(location :%s)" % name,
            native.package_name() + "/" + corpus,
            "-max_len=%d" % max_len,
            "-malloc_limit_mb=%d" % malloc_limit_mb,
            "-rss_limit_mb=%d" % rss_limit_mb,
        ],
        tags = ["manual", "fuzz"],
        testonly = True,
    )
