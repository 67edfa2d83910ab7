// Prints libtorch include or library directories for binding.gyp.
// Order: $LIBTORCH (a pip torch, the official LibTorch zip, Homebrew, a CUDA build), then Debian's libtorch-dev.
const fs = require('node:fs');
const path = require('node:path');
const what = process.argv[2];
const root = process.env.LIBTORCH || process.env.CCP_DML_LIBTORCH;
let includes, libdir;
if (root) {
  includes = [path.join(root, 'include'), path.join(root, 'include/torch/csrc/api/include')];
  libdir = path.join(root, 'lib');
  if (!fs.existsSync(path.join(includes[0], 'torch'))) {
    console.error(`LIBTORCH=${root} has no include/torch folder`);
    process.exit(1);
  }
} else {
  includes = ['/usr/include', '/usr/include/torch/csrc/api/include'];
  const candidates = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'];
  libdir = candidates.find((d) => fs.existsSync(path.join(d, 'libtorch.so'))) || candidates[0];
  if (!fs.existsSync(path.join(libdir, 'libtorch.so'))) {
    console.error('libtorch not found: install Debian libtorch-dev or set LIBTORCH to a libtorch folder');
    process.exit(1);
  }
}
// A libtorch built with CUDA ships libtorch_cuda: then NCCL process groups are compiled in (native/distributed.cc).
const hasCuda =
  fs.existsSync(path.join(libdir, 'libtorch_cuda.so')) && fs.existsSync(path.join(includes[0], 'torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp'));
// Recent libtorch headers need C++20 (ATen.h stops with an #error under it, e.g. 2.14); older ones build as C++17.
const needsCxx20 = (() => {
  try {
    return /C\+\+20 or later/.test(fs.readFileSync(path.join(includes[0], 'ATen/ATen.h'), 'utf8'));
  } catch {
    return false;
  }
})();
if (what === 'include') console.log(includes.join(' '));
else if (what === 'lib') console.log(libdir);
else if (what === 'cuda-defines') console.log(hasCuda ? 'USE_C10D_NCCL USE_CUDA' : '');
else if (what === 'cxx-std') console.log(needsCxx20 ? 'c++20' : 'c++17');
else if (what === 'cuda-libs') console.log(hasCuda ? '-ltorch_cuda' : '');
else {
  console.error('usage: torch-paths.cjs include|lib|cxx-std|cuda-defines|cuda-libs');
  process.exit(2);
}
