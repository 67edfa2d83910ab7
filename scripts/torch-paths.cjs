// Prints libtorch include or library directories and compile settings for binding.gyp.
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
const readOr = (file, fallback) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
};
const listDir = (dir) => {
  try {
    return fs.readdirSync(dir).map((name) => path.join(dir, name));
  } catch {
    return [];
  }
};
// A libtorch built with CUDA ships libtorch_cuda: then NCCL process groups are compiled in (native/distributed.cc).
const hasCuda =
  fs.existsSync(path.join(libdir, 'libtorch_cuda.so')) && fs.existsSync(path.join(includes[0], 'torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp'));
// Recent libtorch headers need C++20 (ATen.h stops with an #error under it, e.g. 2.14); older ones build as C++17.
const needsCxx20 = /C\+\+20 or later/.test(readOr(path.join(includes[0], 'ATen/ATen.h'), ''));
// libtorch's headers include CUDA's (cuda_runtime_api.h, nccl.h) when it has CUDA, and libtorch ships none of them:
// they come from a CUDA toolkit (CUDA_HOME, CUDA_PATH, /usr/local/cuda) or, for a pip torch, from the nvidia-*
// wheels installed beside it (site-packages/nvidia/<part>/include; CUDA 13 wheels: nvidia/cu13/include).
// CUDA 13 keeps nv/target and cub under include/cccl, which nvcc adds by itself and g++ does not.
function cudaIncludes() {
  // A toolkit named in the environment first, then the wheels torch was installed with, then the default toolkit.
  const wheels = root ? listDir(path.join(root, '..', 'nvidia')).sort() : [];
  const homes = [process.env.CUDA_HOME, process.env.CUDA_PATH, ...wheels, '/usr/local/cuda', process.env.NCCL_HOME];
  const dirs = homes.filter(Boolean).map((d) => path.join(d, 'include'));
  if (process.env.NCCL_INCLUDE) dirs.push(process.env.NCCL_INCLUDE);
  const found = [...new Set(dirs)].filter((d) => fs.existsSync(d));
  return found.flatMap((d) => (fs.existsSync(path.join(d, 'cccl')) ? [d, path.join(d, 'cccl')] : [d]));
}
// libstdc++'s ABI must match libtorch's: pip wheels up to torch 2.6 (and LibTorch's "pre-cxx11" zips) use the
// old one, which TorchConfig.cmake declares as TORCH_CXX_FLAGS; compiled with the other, std::string arguments
// fail to link or crash.
function abiDefine() {
  const configs = [path.join(root || '', 'share/cmake/Torch/TorchConfig.cmake'), path.join(libdir, 'cmake/Torch/TorchConfig.cmake')];
  const abi = configs.map((f) => /_GLIBCXX_USE_CXX11_ABI=([01])/.exec(readOr(f, ''))).find(Boolean);
  return abi ? `_GLIBCXX_USE_CXX11_ABI=${abi[1]}` : '';
}
// libtorch_cuda is linked although the addon names none of its symbols: its static initialisers register the
// CUDA kernels and hooks. Linkers that default to --as-needed (Ubuntu's) would drop it; binding.gyp says
// --no-as-needed, as PyTorch's own extensions do.
const cudaLibs = () => (hasCuda ? ['-ltorch_cuda', ...(fs.existsSync(path.join(libdir, 'libc10_cuda.so')) ? ['-lc10_cuda'] : [])] : []);
const outputs = {
  include: () => [...includes, ...(hasCuda ? cudaIncludes() : [])].join(' '),
  lib: () => libdir,
  'cxx-std': () => (needsCxx20 ? 'c++20' : 'c++17'),
  defines: () => [abiDefine(), ...(hasCuda ? ['USE_C10D_NCCL', 'USE_CUDA'] : [])].filter(Boolean).join(' '),
  'cuda-libs': () => cudaLibs().join(' '),
};
if (!Object.hasOwn(outputs, what)) {
  console.error(`usage: torch-paths.cjs ${Object.keys(outputs).join('|')}`);
  process.exit(2);
}
console.log(outputs[what]());
