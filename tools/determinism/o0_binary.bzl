"""o0_binary: the same binary built again without optimisation (-O0), for determinism checks.

A configuration transition rebuilds `binary` (and everything it links) with -O0 appended to the
C/C++ options and compilation_mode=dbg (its own output tree, so the -O2 build stays as it is).
The rule's output is a copy of that executable.
"""

def _o0_transition_impl(settings, attr):
    return {
        "//command_line_option:compilation_mode": "dbg",
        "//command_line_option:copt": settings["//command_line_option:copt"] + ["-O0"],
    }

_o0_transition = transition(
    implementation = _o0_transition_impl,
    inputs = ["//command_line_option:copt"],
    outputs = ["//command_line_option:compilation_mode", "//command_line_option:copt"],
)

def _o0_binary_impl(ctx):
    src = ctx.attr.binary[0][DefaultInfo].files_to_run.executable
    out = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.run_shell(
        inputs = [src],
        outputs = [out],
        command = "cp -L '%s' '%s' && chmod +x '%s'" % (src.path, out.path, out.path),
    )
    return [DefaultInfo(executable = out, files = depset([out]))]

o0_binary = rule(
    implementation = _o0_binary_impl,
    attrs = {
        "binary": attr.label(cfg = _o0_transition, executable = True, mandatory = True),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
    executable = True,
)
