{
  "targets": [
    {
      "target_name": "wattprint",
      "win_delay_load_hook": "false",
      "conditions": [
        ["OS=='linux'", {
          "sources": ["src/addon.cc", "src/nvml.cc", "src/rapl.cc", "src/glibc-compat.cc"],
          "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
          "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS", "_GLIBCXX_USE_CXX11_ABI=0"],
          "defines!": ["_GLIBCXX_USE_CXX11_ABI=1"],
          "cflags_cc": ["-std=c++17", "-fvisibility=hidden", "-fno-sized-deallocation", "-ffunction-sections", "-fdata-sections", "-Wall", "-Wextra"],
          "ldflags": ["-Wl,--no-as-needed", "-Wl,--gc-sections"],
          "libraries": ["-l:libdl.so.2", "-l:libpthread.so.0"]
        }, {
          "type": "none"
        }]
      ]
    }
  ]
}
