# Builds build/Release/pertset_native.node. BLAS flags come from find-blas.js so that one file
# covers Debian/Ubuntu (pkg-config openblas, preferring the OpenMP flavour), Fedora and macOS.
{
  "targets": [
    {
      "target_name": "pertset_native",
      "sources": ["src/pertset_native.cc"],
      "cflags_cc!": ["-fno-exceptions"],
      "conditions": [
        ["OS=='mac'", {
          "defines": ["PERTSET_ACCELERATE", "ACCELERATE_NEW_LAPACK"],
          "libraries": ["-framework Accelerate"],
          "xcode_settings": {
            "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17", "-ffp-contract=off", "-fno-math-errno"],
            "MACOSX_DEPLOYMENT_TARGET": "11.0"
          }
        }],
        ["OS!='mac' and OS!='win'", {
          "cflags_cc": ["-O3", "-std=c++17", "-ffp-contract=off", "-fno-math-errno", "-fopenmp", "<!@(node find-blas.js cflags)"],
          "ldflags": ["-fopenmp"],
          "libraries": ["<!@(node find-blas.js libs)"]
        }]
      ]
    }
  ]
}
