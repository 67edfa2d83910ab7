{
  "targets": [
    {
      "target_name": "ccp_dml_native",
      "sources": [
        "native/addon.cc",
        "native/tensor_wrap.cc",
        "native/tensor_handles.cc",
        "native/ops.cc",
        "native/nn_ops.cc",
        "native/autograd.cc",
        "native/optim.cc",
        "native/allocator.cc",
        "native/precision.cc",
        "native/distributed.cc",
        "native/grad_buckets.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node scripts/torch-paths.cjs include)"
      ],
      "libraries": [
        "-L<!(node scripts/torch-paths.cjs lib)",
        "-Wl,-rpath,<!(node scripts/torch-paths.cjs lib)",
        "-ltorch", "-ltorch_cpu", "-lc10", "-ldl",
        "<!@(node scripts/torch-paths.cjs cuda-libs)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "<!@(node scripts/torch-paths.cjs defines)"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++14", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=<!(node scripts/torch-paths.cjs cxx-std)", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "conditions": [
        ["OS=='linux'", { "ldflags": ["-Wl,--no-as-needed"] }]
      ],
      "xcode_settings": { "GCC_ENABLE_CPP_EXCEPTIONS": "YES", "GCC_ENABLE_CPP_RTTI": "YES", "CLANG_CXX_LANGUAGE_STANDARD": "<!(node scripts/torch-paths.cjs cxx-std)" }
    }
  ]
}
