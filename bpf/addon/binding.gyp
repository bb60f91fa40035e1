{
  "targets": [
    {
      "target_name": "meshbench_bpf",
      "sources": ["src/addon.cc", "src/objects.cc", "src/links.cc", "src/maps.cc", "src/perf.cc", "src/timers.cc", "src/calibration.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "../.output"],
      "libraries": ["-lbpf", "-lelf", "-lz"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wno-missing-field-initializers"],
      "cflags_cc!": ["-fno-exceptions"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"]
    }
  ]
}
