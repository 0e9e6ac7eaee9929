// pertset native accelerator: BLAS-backed kernels that work directly on TensorFlow.js wasm heap
// memory (or any ArrayBuffer / TypedArray). Plain N-API, no C++ exceptions across the boundary.
//
// Conventions shared by every function:
//  - buffers are ArrayBuffer or TypedArray (a TypedArray may sit on a SharedArrayBuffer);
//  - offsets are in BYTES from the start of the buffer's view and must be 4-byte aligned;
//  - sizes and strides are in float32 ELEMENTS; a batch stride of 0 broadcasts that operand;
//  - every region touched is checked against the buffer length first, so a bad call throws a
//    RangeError / TypeError instead of reading or writing outside the buffer.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#ifdef PERTSET_ACCELERATE
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
// Declared here too so that a cblas.h from another provider still compiles; we link OpenBLAS.
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
char* openblas_get_corename(void);
}
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

// ---------------------------------------------------------------------------------------------
// Argument helpers. Each returns false after raising a JS exception.

struct Span {
  uint8_t* data = nullptr;
  uint64_t bytes = 0;
};

constexpr double kMaxIndex = 9007199254740991.0;  // 2^53 - 1
int g_threads = 1;

bool ThrowRange(napi_env env, const std::string& msg) {
  napi_throw_range_error(env, "ERR_PERTSET_NATIVE_RANGE", msg.c_str());
  return false;
}

bool ThrowType(napi_env env, const std::string& msg) {
  napi_throw_type_error(env, "ERR_PERTSET_NATIVE_TYPE", msg.c_str());
  return false;
}

bool GetBuffer(napi_env env, napi_value v, const char* name, Span* out) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (is) {
    napi_typedarray_type type;
    size_t length = 0, byteOffset = 0;
    void* data = nullptr;
    napi_value ab;
    if (napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &byteOffset) != napi_ok) {
      return ThrowType(env, std::string(name) + ": cannot read TypedArray");
    }
    size_t elem = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: elem = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
      default: elem = 1;
    }
    out->data = static_cast<uint8_t*>(data);
    out->bytes = static_cast<uint64_t>(length) * elem;
    return true;
  }
  napi_is_arraybuffer(env, v, &is);
  if (is) {
    void* data = nullptr;
    size_t len = 0;
    if (napi_get_arraybuffer_info(env, v, &data, &len) != napi_ok) {
      return ThrowType(env, std::string(name) + ": cannot read ArrayBuffer");
    }
    out->data = static_cast<uint8_t*>(data);
    out->bytes = len;
    return true;
  }
  return ThrowType(env, std::string(name) + ": expected an ArrayBuffer or TypedArray");
}

bool GetNumber(napi_env env, napi_value v, const char* name, double* out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_boolean) {
    bool b = false;
    napi_get_value_bool(env, v, &b);
    *out = b ? 1 : 0;
    return true;
  }
  if (t != napi_number) return ThrowType(env, std::string(name) + ": expected a number");
  napi_get_value_double(env, v, out);
  return true;
}

// A non-negative integer below 2^53 (sizes, offsets, strides).
bool GetIndex(napi_env env, napi_value v, const char* name, uint64_t* out) {
  double d = 0;
  if (!GetNumber(env, v, name, &d)) return false;
  if (!(d >= 0) || d > kMaxIndex || std::floor(d) != d) {
    return ThrowRange(env, std::string(name) + ": expected a non-negative integer, got " + std::to_string(d));
  }
  *out = static_cast<uint64_t>(d);
  return true;
}

// Same, but also small enough to be a BLAS int dimension.
bool GetDim(napi_env env, napi_value v, const char* name, int* out) {
  uint64_t u = 0;
  if (!GetIndex(env, v, name, &u)) return false;
  if (u > 0x7fffffffULL) return ThrowRange(env, std::string(name) + ": too large (" + std::to_string(u) + ")");
  *out = static_cast<int>(u);
  return true;
}

bool GetFloat(napi_env env, napi_value v, const char* name, float* out) {
  double d = 0;
  if (!GetNumber(env, v, name, &d)) return false;
  *out = static_cast<float>(d);
  return true;
}

// Checks that `count` floats starting at byte `off` lie inside `buf`; returns the float pointer.
bool Region(napi_env env, const Span& buf, uint64_t off, uint64_t count, const char* name, float** out) {
  if (off % 4 != 0 || (reinterpret_cast<uintptr_t>(buf.data) + off) % 4 != 0) {
    return ThrowRange(env, std::string(name) + ": byte offset " + std::to_string(off) + " is not 4-byte aligned");
  }
  // count <= 2^62 keeps count*4 from overflowing; real buffers are far below that.
  if (count > (1ULL << 60) || off > buf.bytes || count * 4 > buf.bytes - off) {
    return ThrowRange(env, std::string(name) + ": " + std::to_string(count) + " floats at byte offset " +
                               std::to_string(off) + " exceed the buffer (" + std::to_string(buf.bytes) + " bytes)");
  }
  *out = reinterpret_cast<float*>(buf.data + off);
  return true;
}

// Floats spanned by a row-major matrix view: `rows` rows of `cols` used entries, `ld` apart.
uint64_t MatrixExtent(uint64_t rows, uint64_t cols, uint64_t ld) {
  if (rows == 0 || cols == 0) return 0;
  return (rows - 1) * ld + cols;
}

// Floats spanned by `batch` matrices of `extent` floats, `stride` apart (stride 0 = broadcast).
bool BatchExtent(napi_env env, uint64_t batch, uint64_t stride, uint64_t extent, const char* name, uint64_t* out) {
  if (batch == 0 || extent == 0) { *out = 0; return true; }
  if (stride != 0 && (batch - 1) > (1ULL << 60) / stride) return ThrowRange(env, std::string(name) + ": batch stride overflows");
  *out = (batch - 1) * stride + extent;
  return true;
}

bool Args(napi_env env, napi_callback_info info, size_t min, size_t max, std::vector<napi_value>* argv) {
  size_t argc = max;
  argv->assign(max, nullptr);
  napi_get_cb_info(env, info, &argc, argv->data(), nullptr, nullptr);
  if (argc < min) {
    return ThrowType(env, "expected at least " + std::to_string(min) + " arguments, got " + std::to_string(argc));
  }
  argv->resize(argc);
  return true;
}

napi_value Undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// Element-wise work below this many elements runs on one thread. These loops are memory-bound,
// so a second thread gains little, while on a busy machine every fork/join can wait for a
// descheduled thread; only the largest im2col/col2im passes are worth splitting.
constexpr int64_t kParallelMin = 1 << 22;

// Reusable scratch memory for the taps matrices (grows up to ~64 MB, never shrinks). Calls are
// synchronous; thread_local keeps worker_threads that load the addon from sharing it.
std::vector<float>& Scratch(size_t floats) {
  thread_local std::vector<float> scratch;
  if (scratch.size() < floats) scratch.resize(floats);
  return scratch;
}

// ---------------------------------------------------------------------------------------------
// Geometry of an NHWC 2-D convolution, with the filter [kh, kw, ci, co].

struct ConvGeom {
  int n, h, w, c;          // input
  int kh, kw;              // filter
  int sh, sw;              // strides
  int pt, pl;              // top / left padding
  int dh, dw;              // dilations
  int oh, ow;              // output
  uint64_t InputFloats() const { return uint64_t(n) * h * w * c; }
  uint64_t OutputRows() const { return uint64_t(n) * oh * ow; }
  uint64_t PatchSize() const { return uint64_t(kh) * kw * c; }
};

// Reads the 15 geometry arguments starting at argv[first].
bool GetGeom(napi_env env, const std::vector<napi_value>& argv, size_t first, ConvGeom* g) {
  const char* names[] = {"batch", "inHeight", "inWidth", "inChannels", "filterHeight", "filterWidth",
                         "strideHeight", "strideWidth", "padTop", "padLeft", "dilationHeight",
                         "dilationWidth", "outHeight", "outWidth"};
  int* fields[] = {&g->n, &g->h, &g->w, &g->c, &g->kh, &g->kw, &g->sh, &g->sw,
                   &g->pt, &g->pl, &g->dh, &g->dw, &g->oh, &g->ow};
  for (size_t i = 0; i < 14; i++) {
    if (!GetDim(env, argv[first + i], names[i], fields[i])) return false;
  }
  if (g->sh < 1 || g->sw < 1 || g->dh < 1 || g->dw < 1) return ThrowRange(env, "strides and dilations must be >= 1");
  // Products below are formed in 64 bits; keep each one far from overflow and BLAS's int range.
  const double in = double(g->n) * g->h * g->w * g->c, rows = double(g->n) * g->oh * g->ow;
  const double patch = double(g->kh) * g->kw * g->c;
  if (in > 1e15 || rows > 2147483647.0 || patch > 2147483647.0 || rows * patch > 1e15) {
    return ThrowRange(env, "convolution geometry is too large");
  }
  // Memory safety does not depend on oh/ow matching h/w: reads and writes of x are clipped to
  // [0, h) x [0, w), and the patch matrix is sized from oh/ow, which the caller's regions cover.
  return true;
}

constexpr size_t kGeomArgs = 14;

// Writes the patch rows [row0, row0+rows) of the im2col matrix of `x` into `col` (rows x patch).
// Row r = (image, oy, ox); column = (ky, kx, ci), matching a [kh, kw, ci, co] filter.
void Im2Col(const ConvGeom& g, const float* x, float* col, int64_t row0, int64_t rows) {
  const int64_t patch = g.PatchSize();
  const int64_t perImage = int64_t(g.oh) * g.ow;
#pragma omp parallel for schedule(static) if (rows * patch > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const int64_t row = row0 + r;
    const int64_t img = row / perImage;
    const int64_t rem = row % perImage;
    const int64_t oy = rem / g.ow, ox = rem % g.ow;
    float* dst = col + r * patch;
    const float* src = x + img * int64_t(g.h) * g.w * g.c;
    for (int ky = 0; ky < g.kh; ky++) {
      const int64_t iy = oy * g.sh - g.pt + int64_t(ky) * g.dh;
      for (int kx = 0; kx < g.kw; kx++) {
        const int64_t ix = ox * g.sw - g.pl + int64_t(kx) * g.dw;
        float* d = dst + (int64_t(ky) * g.kw + kx) * g.c;
        if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) {
          std::memset(d, 0, sizeof(float) * g.c);
        } else {
          std::memcpy(d, src + (int64_t(iy) * g.w + ix) * g.c, sizeof(float) * g.c);
        }
      }
    }
  }
}

// Adds the patch rows of whole images [img0, img0+imgs) from `col` back into `x` (the adjoint of
// Im2Col). Images are independent, so they are split across threads without write conflicts.
void Col2ImAdd(const ConvGeom& g, const float* col, float* x, int64_t img0, int64_t imgs) {
  const int64_t patch = g.PatchSize();
  const int64_t perImage = int64_t(g.oh) * g.ow;
#pragma omp parallel for schedule(static) if (imgs * perImage * patch > kParallelMin)
  for (int64_t i = 0; i < imgs; i++) {
    float* dst = x + (img0 + i) * int64_t(g.h) * g.w * g.c;
    for (int64_t rem = 0; rem < perImage; rem++) {
      const int64_t oy = rem / g.ow, ox = rem % g.ow;
      const float* src = col + (i * perImage + rem) * patch;
      for (int ky = 0; ky < g.kh; ky++) {
        const int64_t iy = oy * g.sh - g.pt + int64_t(ky) * g.dh;
        if (iy < 0 || iy >= g.h) continue;
        for (int kx = 0; kx < g.kw; kx++) {
          const int64_t ix = ox * g.sw - g.pl + int64_t(kx) * g.dw;
          if (ix < 0 || ix >= g.w) continue;
          const float* s = src + (int64_t(ky) * g.kw + kx) * g.c;
          float* d = dst + (int64_t(iy) * g.w + ix) * g.c;
          for (int ci = 0; ci < g.c; ci++) d[ci] += s[ci];
        }
      }
    }
  }
}

// A 1x1, stride-1, unpadded conv is a plain matmul on the input: no im2col needed.
bool IsPointwise(const ConvGeom& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.oh == g.h && g.ow == g.w;
}

void Gemm(bool tA, bool tB, int M, int N, int K, float alpha, const float* A, const float* B, float beta, float* C) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // BLAS leaves C alone for K = 0 when beta = 0 on some builds; define it.
    for (int64_t i = 0; i < int64_t(M) * N; i++) C[i] = beta == 0 ? 0.f : beta * C[i];
    return;
  }
  const int lda = tA ? M : K, ldb = tB ? K : N;
  cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda,
              B, ldb, beta, C, N);
}

// ---------------------------------------------------------------------------------------------
// sgemm(transA, transB, M, N, K, alpha, A, aOff, B, bOff, beta, C, cOff[, batch, strideA, strideB, strideC])
// Row-major C[b] = alpha * op(A[b]) op(B[b]) + beta * C[b]. A is MxK (KxM when transposed), B is
// KxN (NxK when transposed), C is MxN. Strides default to dense; 0 broadcasts A or B.
napi_value Sgemm(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  if (!Args(env, info, 13, 17, &a)) return nullptr;
  double dtA = 0, dtB = 0;
  int M, N, K;
  float alpha, beta;
  Span bufA, bufB, bufC;
  uint64_t aOff, bOff, cOff;
  if (!GetNumber(env, a[0], "transA", &dtA) || !GetNumber(env, a[1], "transB", &dtB) ||
      !GetDim(env, a[2], "M", &M) || !GetDim(env, a[3], "N", &N) || !GetDim(env, a[4], "K", &K) ||
      !GetFloat(env, a[5], "alpha", &alpha) || !GetBuffer(env, a[6], "A", &bufA) ||
      !GetIndex(env, a[7], "aOffset", &aOff) || !GetBuffer(env, a[8], "B", &bufB) ||
      !GetIndex(env, a[9], "bOffset", &bOff) || !GetFloat(env, a[10], "beta", &beta) ||
      !GetBuffer(env, a[11], "C", &bufC) || !GetIndex(env, a[12], "cOffset", &cOff)) {
    return nullptr;
  }
  const bool tA = dtA != 0, tB = dtB != 0;
  const uint64_t aRows = tA ? K : M, aCols = tA ? M : K, bRows = tB ? N : K, bCols = tB ? K : N;
  uint64_t batch = 1, sA = uint64_t(M) * K, sB = uint64_t(K) * N, sC = uint64_t(M) * N;
  if (a.size() > 13 && !GetIndex(env, a[13], "batch", &batch)) return nullptr;
  if (a.size() > 14 && !GetIndex(env, a[14], "strideA", &sA)) return nullptr;
  if (a.size() > 15 && !GetIndex(env, a[15], "strideB", &sB)) return nullptr;
  if (a.size() > 16 && !GetIndex(env, a[16], "strideC", &sC)) return nullptr;
  if (batch > 1 && sC < uint64_t(M) * N) return ThrowRange(env, "strideC is smaller than M*N: outputs would overlap"), nullptr;
  uint64_t extA, extB, extC;
  float *pA, *pB, *pC;
  if (!BatchExtent(env, batch, sA, MatrixExtent(aRows, aCols, aCols), "A", &extA) ||
      !BatchExtent(env, batch, sB, MatrixExtent(bRows, bCols, bCols), "B", &extB) ||
      !BatchExtent(env, batch, sC, MatrixExtent(M, N, N), "C", &extC) ||
      !Region(env, bufA, aOff, extA, "A", &pA) || !Region(env, bufB, bOff, extB, "B", &pB) ||
      !Region(env, bufC, cOff, extC, "C", &pC)) {
    return nullptr;
  }
  for (uint64_t b = 0; b < batch; b++) {
    Gemm(tA, tB, M, N, K, alpha, pA + b * sA, pB + b * sB, beta, pC + b * sC);
  }
  return Undefined(env);
}

// ---------------------------------------------------------------------------------------------
// Activation codes follow tfjs-backend-wasm's FusableActivation enum.
enum Act { kLinear = 0, kRelu = 1, kRelu6 = 2, kPrelu = 3, kLeakyRelu = 4, kSigmoid = 5, kElu = 6 };

// epilogue(buf, cOff, rows, cols, biasOff, biasLen, act, leakyAlpha, preluOff, preluLen)
// In place on the rows x cols matrix at cOff: add bias (length cols or 1; biasLen 0 = none), then
// apply the activation. PReLU weights have length cols or 1.
napi_value Epilogue(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  if (!Args(env, info, 10, 10, &a)) return nullptr;
  Span buf;
  uint64_t cOff, rows, cols, biasOff, biasLen, act, preluOff, preluLen;
  float leaky;
  if (!GetBuffer(env, a[0], "buf", &buf) || !GetIndex(env, a[1], "cOffset", &cOff) ||
      !GetIndex(env, a[2], "rows", &rows) || !GetIndex(env, a[3], "cols", &cols) ||
      !GetIndex(env, a[4], "biasOffset", &biasOff) || !GetIndex(env, a[5], "biasLength", &biasLen) ||
      !GetIndex(env, a[6], "activation", &act) || !GetFloat(env, a[7], "leakyreluAlpha", &leaky) ||
      !GetIndex(env, a[8], "preluOffset", &preluOff) || !GetIndex(env, a[9], "preluLength", &preluLen)) {
    return nullptr;
  }
  if (act > kElu) return ThrowRange(env, "activation: unknown code " + std::to_string(act)), nullptr;
  if (biasLen != 0 && biasLen != 1 && biasLen != cols) return ThrowRange(env, "biasLength must be 0, 1 or cols"), nullptr;
  if (act == kPrelu && preluLen != 1 && preluLen != cols) return ThrowRange(env, "preluLength must be 1 or cols"), nullptr;
  if (rows > 0 && cols > (1ULL << 60) / rows) return ThrowRange(env, "rows*cols overflows"), nullptr;
  float *c, *bias = nullptr, *prelu = nullptr;
  if (!Region(env, buf, cOff, rows * cols, "C", &c)) return nullptr;
  if (biasLen && !Region(env, buf, biasOff, biasLen, "bias", &bias)) return nullptr;
  if (act == kPrelu && !Region(env, buf, preluOff, preluLen, "prelu", &prelu)) return nullptr;
  const int64_t R = rows, Cn = cols;
#pragma omp parallel for schedule(static) if (R * Cn > kParallelMin)
  for (int64_t r = 0; r < R; r++) {
    float* row = c + r * Cn;
    for (int64_t j = 0; j < Cn; j++) {
      float v = row[j];
      if (bias) v += bias[biasLen == 1 ? 0 : j];
      switch (act) {
        case kRelu: v = v < 0 ? 0.f : v; break;
        case kRelu6: v = std::min(std::max(v, 0.f), 6.f); break;
        case kPrelu: v = v < 0 ? prelu[preluLen == 1 ? 0 : j] * v : v; break;
        case kLeakyRelu: v = v < 0 ? leaky * v : v; break;
        case kSigmoid: v = 1.f / (1.f + std::exp(-v)); break;
        case kElu: v = v < 0 ? std::expm1(v) : v; break;
        default: break;
      }
      row[j] = v;
    }
  }
  return Undefined(env);
}

// Reads (buf, off) pairs for a convolution call and checks the regions.
struct ConvIo {
  float* x;   // input, n*h*w*c
  float* w;   // filter, kh*kw*c*co
  float* y;   // output, n*oh*ow*co
};

bool GetConvIo(napi_env env, const std::vector<napi_value>& a, const ConvGeom& g, int co, ConvIo* io) {
  Span buf;
  uint64_t xOff, wOff, yOff;
  if (!GetBuffer(env, a[0], "buf", &buf) || !GetIndex(env, a[1], "xOffset", &xOff) ||
      !GetIndex(env, a[2], "filterOffset", &wOff) || !GetIndex(env, a[3], "yOffset", &yOff)) {
    return false;
  }
  return Region(env, buf, xOff, g.InputFloats(), "x", &io->x) &&
         Region(env, buf, wOff, g.PatchSize() * co, "filter", &io->w) &&
         Region(env, buf, yOff, g.OutputRows() * co, "y", &io->y);
}

bool GetConvArgs(napi_env env, napi_callback_info info, ConvGeom* g, int* co, ConvIo* io) {
  std::vector<napi_value> a;
  if (!Args(env, info, 5 + kGeomArgs, 5 + kGeomArgs, &a)) return false;
  if (!GetGeom(env, a, 4, g) || !GetDim(env, a[4 + kGeomArgs], "outChannels", co)) return false;
  return GetConvIo(env, a, *g, *co, io);
}

// =============================================================================================
// BEGIN layout and small-channel kernels (max-pool gradient, nearest-upsampling gradient, strided
// block copies for concat/split, convolutions with few output channels).

// maxPoolGrad(buf, xOff, dyOff, dxOff, n, h, w, c, oh, ow, fh, fw, sh, sw, pt, pl):
// dx = 0, then each pooled output's dy goes to the FIRST maximum of its window in row-major
// window order (tfjs's rule: strict >, starting from -inf; a window without one gets nothing).
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  if (!Args(env, info, 16, 16, &a)) return nullptr;
  Span buf;
  uint64_t xOff, dyOff, dxOff;
  int d[12];
  const char* names[] = {"batch", "inHeight", "inWidth", "channels", "outHeight", "outWidth",
                         "filterHeight", "filterWidth", "strideHeight", "strideWidth", "padTop", "padLeft"};
  if (!GetBuffer(env, a[0], "buf", &buf) || !GetIndex(env, a[1], "xOffset", &xOff) ||
      !GetIndex(env, a[2], "dyOffset", &dyOff) || !GetIndex(env, a[3], "dxOffset", &dxOff)) {
    return nullptr;
  }
  for (int i = 0; i < 12; i++) {
    if (!GetDim(env, a[4 + i], names[i], &d[i])) return nullptr;
  }
  const int64_t n = d[0], h = d[1], w = d[2], c = d[3], oh = d[4], ow = d[5], fh = d[6], fw = d[7];
  const int64_t sh = d[8], sw = d[9], pt = d[10], pl = d[11];
  if (sh < 1 || sw < 1) return ThrowRange(env, "strides must be >= 1"), nullptr;
  if (double(n) * h * w * c > 1e15 || double(n) * oh * ow * c > 1e15) return ThrowRange(env, "pooling geometry is too large"), nullptr;
  float *x, *dy, *dx;
  if (!Region(env, buf, xOff, uint64_t(n * h * w * c), "x", &x) || !Region(env, buf, dyOff, uint64_t(n * oh * ow * c), "dy", &dy) ||
      !Region(env, buf, dxOff, uint64_t(n * h * w * c), "dx", &dx)) {
    return nullptr;
  }
  std::memset(dx, 0, sizeof(float) * size_t(n * h * w * c));
  std::vector<float> best(static_cast<size_t>(c));
  std::vector<int64_t> pos(static_cast<size_t>(c));
  for (int64_t b = 0; b < n; b++) {
    const float* xi = x + b * h * w * c;
    float* dxi = dx + b * h * w * c;
    for (int64_t oy = 0; oy < oh; oy++) {
      for (int64_t ox = 0; ox < ow; ox++) {
        std::fill(best.begin(), best.end(), -INFINITY);
        std::fill(pos.begin(), pos.end(), -1);
        for (int64_t ky = 0; ky < fh; ky++) {
          const int64_t iy = oy * sh - pt + ky;
          if (iy < 0 || iy >= h) continue;
          for (int64_t kx = 0; kx < fw; kx++) {
            const int64_t ix = ox * sw - pl + kx;
            if (ix < 0 || ix >= w) continue;
            const int64_t base = (iy * w + ix) * c;
            const float* px = xi + base;
            for (int64_t ch = 0; ch < c; ch++) {
              if (px[ch] > best[ch]) { best[ch] = px[ch]; pos[ch] = base + ch; }
            }
          }
        }
        const float* g = dy + ((b * oh + oy) * ow + ox) * c;
        for (int64_t ch = 0; ch < c; ch++) {
          if (pos[ch] >= 0) dxi[pos[ch]] += g[ch];
        }
      }
    }
  }
  return Undefined(env);
}

// resizeNearestGrad(buf, dyOff, dxOff, n, h, w, c, fy, fx): the gradient of nearest-neighbour
// upsampling by integer factors (output pixel (y, x) reads input (y / fy, x / fx)):
// dx[n, i, j, :] = sum of dy over the fy x fx block it was copied to, in row-major block order.
napi_value ResizeNearestGrad(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  if (!Args(env, info, 9, 9, &a)) return nullptr;
  Span buf;
  uint64_t dyOff, dxOff;
  int n, h, w, c, fy, fx;
  if (!GetBuffer(env, a[0], "buf", &buf) || !GetIndex(env, a[1], "dyOffset", &dyOff) ||
      !GetIndex(env, a[2], "dxOffset", &dxOff) || !GetDim(env, a[3], "batch", &n) || !GetDim(env, a[4], "inHeight", &h) ||
      !GetDim(env, a[5], "inWidth", &w) || !GetDim(env, a[6], "channels", &c) || !GetDim(env, a[7], "factorY", &fy) ||
      !GetDim(env, a[8], "factorX", &fx)) {
    return nullptr;
  }
  if (fy < 1 || fx < 1) return ThrowRange(env, "factors must be >= 1"), nullptr;
  const double big = double(n) * h * w * c * fy * fx;
  if (big > 1e15) return ThrowRange(env, "resize geometry is too large"), nullptr;
  const int64_t in = int64_t(n) * h * w * c;
  float *dy, *dx;
  if (!Region(env, buf, dyOff, uint64_t(in) * fy * fx, "dy", &dy) || !Region(env, buf, dxOff, uint64_t(in), "dx", &dx)) return nullptr;
  const int64_t W = int64_t(w) * fx, C = c;
#pragma omp parallel for schedule(static) if (in * fy * fx > kParallelMin)
  for (int64_t row = 0; row < int64_t(n) * h; row++) {  // (image, input row)
    const int64_t b = row / h, i = row % h;
    float* out = dx + row * w * C;
    std::memset(out, 0, sizeof(float) * size_t(w * C));
    for (int64_t dyr = 0; dyr < fy; dyr++) {
      const float* src = dy + ((b * h + i) * fy + dyr) * W * C;
      for (int64_t j = 0; j < w; j++) {
        float* o = out + j * C;
        for (int64_t dxc = 0; dxc < fx; dxc++) {
          const float* s = src + (j * fx + dxc) * C;
          for (int64_t ch = 0; ch < C; ch++) o[ch] += s[ch];
        }
      }
    }
  }
  return Undefined(env);
}

// copyBlock(buf, srcOff, srcStride, dstOff, dstStride, rows, cols): dst[r, 0:cols] = src[r, 0:cols]
// for r < rows, rows `srcStride` / `dstStride` floats apart (concat and split along the last axes).
napi_value CopyBlock(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  if (!Args(env, info, 7, 7, &a)) return nullptr;
  Span buf;
  uint64_t sOff, sStride, dOff, dStride, rows, cols;
  if (!GetBuffer(env, a[0], "buf", &buf) || !GetIndex(env, a[1], "srcOffset", &sOff) ||
      !GetIndex(env, a[2], "srcStride", &sStride) || !GetIndex(env, a[3], "dstOffset", &dOff) ||
      !GetIndex(env, a[4], "dstStride", &dStride) || !GetIndex(env, a[5], "rows", &rows) || !GetIndex(env, a[6], "cols", &cols)) {
    return nullptr;
  }
  if (rows == 0 || cols == 0) return Undefined(env);
  if (cols > sStride || cols > dStride) return ThrowRange(env, "cols exceeds a row stride"), nullptr;
  if (rows > (1ULL << 60) / std::max<uint64_t>(std::max(sStride, dStride), 1)) return ThrowRange(env, "rows*stride overflows"), nullptr;
  float *src, *dst;
  if (!Region(env, buf, sOff, MatrixExtent(rows, cols, sStride), "src", &src) ||
      !Region(env, buf, dOff, MatrixExtent(rows, cols, dStride), "dst", &dst)) {
    return nullptr;
  }
  const int64_t R = rows, Cn = cols, S = sStride, D = dStride;
  if (Cn == 1) {
    for (int64_t r = 0; r < R; r++) dst[r * D] = src[r * S];
  } else {
    for (int64_t r = 0; r < R; r++) std::memcpy(dst + r * D, src + r * S, sizeof(float) * size_t(Cn));
  }
  return Undefined(env);
}

// Convolutions with few output channels (co * 4 <= ci, e.g. a 33 -> 1 output layer): im2col
// would copy every input pixel kh*kw times for a GEMM with a handful of columns. Instead each
// input pixel is multiplied once by the filter taps, giving per input pixel kh*kw*co partial
// products ("taps", [n*h*w, kh*kw*co]); outputs are sums of taps (forward), and the gradients
// use the same taps layout for dy (backprop input / filter).
bool UseTapPath(const ConvGeom& g, int co) {
  return co >= 1 && int64_t(co) * 4 <= g.c && int64_t(g.kh) * g.kw > 1;
}

// The input pixel (iy, ix) that output (oy, ox) reads through tap (ky, kx), or false if padding.
inline bool TapSource(const ConvGeom& g, int64_t oy, int64_t ox, int ky, int kx, int64_t* iy, int64_t* ix) {
  *iy = oy * g.sh - g.pt + int64_t(ky) * g.dh;
  *ix = ox * g.sw - g.pl + int64_t(kx) * g.dw;
  return *iy >= 0 && *iy < g.h && *ix >= 0 && *ix < g.w;
}

// y[n, oy, ox, :] = sum over taps k of taps[n, iy(k), ix(k), k, :].
void TapsToOutput(const ConvGeom& g, int co, const float* taps, float* y) {
  const int64_t K = int64_t(g.kh) * g.kw * co;
#pragma omp parallel for schedule(static) if (int64_t(g.n) * g.oh * g.ow * K > kParallelMin)
  for (int64_t b = 0; b < g.n; b++) {
    for (int64_t oy = 0; oy < g.oh; oy++) {
      for (int64_t ox = 0; ox < g.ow; ox++) {
        float* out = y + ((b * g.oh + oy) * g.ow + ox) * co;
        for (int j = 0; j < co; j++) out[j] = 0.f;
        for (int ky = 0; ky < g.kh; ky++) {
          for (int kx = 0; kx < g.kw; kx++) {
            int64_t iy, ix;
            if (!TapSource(g, oy, ox, ky, kx, &iy, &ix)) continue;
            const float* t = taps + ((b * g.h + iy) * g.w + ix) * K + (int64_t(ky) * g.kw + kx) * co;
            for (int j = 0; j < co; j++) out[j] += t[j];
          }
        }
      }
    }
  }
}

// taps[n, iy, ix, k, :] = dy[n, oy, ox, :] for the output (oy, ox) reading (iy, ix) through tap k,
// else 0 (the adjoint of TapsToOutput).
void OutputToTaps(const ConvGeom& g, int co, const float* dy, float* taps) {
  const int64_t K = int64_t(g.kh) * g.kw * co;
  std::memset(taps, 0, sizeof(float) * size_t(int64_t(g.n) * g.h * g.w * K));
#pragma omp parallel for schedule(static) if (int64_t(g.n) * g.oh * g.ow * K > kParallelMin)
  for (int64_t b = 0; b < g.n; b++) {
    for (int64_t oy = 0; oy < g.oh; oy++) {
      for (int64_t ox = 0; ox < g.ow; ox++) {
        const float* d = dy + ((b * g.oh + oy) * g.ow + ox) * co;
        for (int ky = 0; ky < g.kh; ky++) {
          for (int kx = 0; kx < g.kw; kx++) {
            int64_t iy, ix;
            if (!TapSource(g, oy, ox, ky, kx, &iy, &ix)) continue;
            float* t = taps + ((b * g.h + iy) * g.w + ix) * K + (int64_t(ky) * g.kw + kx) * co;
            for (int j = 0; j < co; j++) t[j] = d[j];
          }
        }
      }
    }
  }
}

// The filter [kh, kw, ci, co] as the [ci, kh*kw*co] matrix the taps GEMMs use.
void FilterToTapMatrix(const ConvGeom& g, int co, const float* w, float* m) {
  const int64_t taps = int64_t(g.kh) * g.kw;
  for (int64_t k = 0; k < taps; k++)
    for (int64_t ci = 0; ci < g.c; ci++)
      for (int j = 0; j < co; j++) m[ci * taps * co + k * co + j] = w[(k * g.c + ci) * co + j];
}

// Images per taps chunk so that the scratch stays below ~64 MB.
int64_t TapChunkImages(const ConvGeom& g, int co) {
  const int64_t perImage = std::max<int64_t>(1, int64_t(g.h) * g.w * g.kh * g.kw * co);
  return std::max<int64_t>(1, std::min<int64_t>(g.n, (int64_t(16) << 20) / perImage));
}

void TapConv2d(const ConvGeom& g, int co, const float* x, const float* w, float* y) {
  const int64_t K = int64_t(g.kh) * g.kw * co, inPerImage = int64_t(g.h) * g.w, outPerImage = int64_t(g.oh) * g.ow;
  std::vector<float> m(static_cast<size_t>(g.c * K));
  FilterToTapMatrix(g, co, w, m.data());
  const int64_t chunk = TapChunkImages(g, co);
  std::vector<float>& taps = Scratch(size_t(chunk * inPerImage * K));
  for (int64_t i0 = 0; i0 < g.n; i0 += chunk) {
    const int64_t imgs = std::min<int64_t>(chunk, g.n - i0);
    Gemm(false, false, int(imgs * inPerImage), int(K), g.c, 1.f, x + i0 * inPerImage * g.c, m.data(), 0.f, taps.data());
    ConvGeom part = g;
    part.n = int(imgs);
    TapsToOutput(part, co, taps.data(), y + i0 * outPerImage * co);
  }
}

void TapConv2dBackpropInput(const ConvGeom& g, int co, const float* dy, const float* w, float* dx) {
  const int64_t K = int64_t(g.kh) * g.kw * co, inPerImage = int64_t(g.h) * g.w, outPerImage = int64_t(g.oh) * g.ow;
  std::vector<float> m(static_cast<size_t>(g.c * K));
  FilterToTapMatrix(g, co, w, m.data());
  const int64_t chunk = TapChunkImages(g, co);
  std::vector<float>& taps = Scratch(size_t(chunk * inPerImage * K));
  for (int64_t i0 = 0; i0 < g.n; i0 += chunk) {
    const int64_t imgs = std::min<int64_t>(chunk, g.n - i0);
    ConvGeom part = g;
    part.n = int(imgs);
    OutputToTaps(part, co, dy + i0 * outPerImage * co, taps.data());
    // dx[pixel, ci] = sum_k taps[pixel, k] * m[ci, k]
    Gemm(false, true, int(imgs * inPerImage), g.c, int(K), 1.f, taps.data(), m.data(), 0.f, dx + i0 * inPerImage * g.c);
  }
}

void TapConv2dBackpropFilter(const ConvGeom& g, int co, const float* x, const float* dy, float* dw) {
  const int64_t K = int64_t(g.kh) * g.kw * co, inPerImage = int64_t(g.h) * g.w, outPerImage = int64_t(g.oh) * g.ow;
  std::vector<float> m(static_cast<size_t>(g.c * K), 0.f);
  const int64_t chunk = TapChunkImages(g, co);
  std::vector<float>& taps = Scratch(size_t(chunk * inPerImage * K));
  for (int64_t i0 = 0; i0 < g.n; i0 += chunk) {
    const int64_t imgs = std::min<int64_t>(chunk, g.n - i0);
    ConvGeom part = g;
    part.n = int(imgs);
    OutputToTaps(part, co, dy + i0 * outPerImage * co, taps.data());
    // m[ci, k] += sum_pixel x[pixel, ci] * taps[pixel, k]
    Gemm(true, false, g.c, int(K), int(imgs * inPerImage), 1.f, x + i0 * inPerImage * g.c, taps.data(), i0 == 0 ? 0.f : 1.f, m.data());
  }
  const int64_t nt = int64_t(g.kh) * g.kw;
  for (int64_t k = 0; k < nt; k++)
    for (int64_t ci = 0; ci < g.c; ci++)
      for (int j = 0; j < co; j++) dw[(k * g.c + ci) * co + j] = m[ci * nt * co + k * co + j];
}

// Image-parallel lowering, as PyTorch's CPU convolutions do it: each thread takes a few images
// at a time, lowers them into its own cache-sized patch matrix and runs a single-threaded GEMM
// (OpenBLAS's OpenMP build runs serially inside a parallel region). One im2col matrix for the
// whole batch with a multi-threaded GEMM streams tens of MB through memory instead.
int64_t TaskImages(const ConvGeom& g) {
  const int64_t perImage = std::max<int64_t>(1, int64_t(g.oh) * g.ow * g.PatchSize());
  return std::max<int64_t>(1, std::min<int64_t>(g.n, (int64_t(1) << 18) / perImage));  // ~1 MB
}

int TaskThreads(int64_t tasks) {
  return int(std::max<int64_t>(1, std::min<int64_t>(g_threads, tasks)));
}

int ThreadId() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

void ParConv2d(const ConvGeom& g, int co, const float* x, const float* w, float* y) {
  const int64_t per = TaskImages(g), tasks = (g.n + per - 1) / per, perImage = int64_t(g.oh) * g.ow;
  const int patch = int(g.PatchSize());
  const int threads = TaskThreads(tasks);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    std::vector<float> col(static_cast<size_t>(per * perImage * patch));
#pragma omp for schedule(static)
    for (int64_t t = 0; t < tasks; t++) {
      const int64_t i0 = t * per, imgs = std::min<int64_t>(per, g.n - i0), rows = imgs * perImage;
      Im2Col(g, x, col.data(), i0 * perImage, rows);
      Gemm(false, false, int(rows), co, patch, 1.f, col.data(), w, 0.f, y + i0 * perImage * co);
    }
  }
}

void ParConv2dBackpropInput(const ConvGeom& g, int co, const float* dy, const float* w, float* dx) {
  const int64_t per = TaskImages(g), tasks = (g.n + per - 1) / per, perImage = int64_t(g.oh) * g.ow;
  const int patch = int(g.PatchSize());
  const int threads = TaskThreads(tasks);
  std::memset(dx, 0, sizeof(float) * g.InputFloats());
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    std::vector<float> col(static_cast<size_t>(per * perImage * patch));
#pragma omp for schedule(static)
    for (int64_t t = 0; t < tasks; t++) {
      const int64_t i0 = t * per, imgs = std::min<int64_t>(per, g.n - i0), rows = imgs * perImage;
      Gemm(false, true, int(rows), patch, co, 1.f, dy + i0 * perImage * co, w, 0.f, col.data());
      Col2ImAdd(g, col.data(), dx, i0, imgs);
    }
  }
}

void ParConv2dBackpropFilter(const ConvGeom& g, int co, const float* x, const float* dy, float* dw) {
  const int64_t per = TaskImages(g), tasks = (g.n + per - 1) / per, perImage = int64_t(g.oh) * g.ow;
  const int patch = int(g.PatchSize());
  const int threads = TaskThreads(tasks);
  const int64_t filter = int64_t(patch) * co;
  std::vector<float> partial(static_cast<size_t>(threads * filter), 0.f);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    std::vector<float> col(static_cast<size_t>(per * perImage * patch));
    float* acc = partial.data() + int64_t(ThreadId()) * filter;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < tasks; t++) {
      const int64_t i0 = t * per, imgs = std::min<int64_t>(per, g.n - i0), rows = imgs * perImage;
      Im2Col(g, x, col.data(), i0 * perImage, rows);
      Gemm(true, false, patch, co, int(rows), 1.f, col.data(), dy + i0 * perImage * co, 1.f, acc);
    }
  }
  for (int64_t i = 0; i < filter; i++) {
    float s = 0.f;
    for (int t = 0; t < threads; t++) s += partial[size_t(t * filter + i)];
    dw[i] = s;
  }
}

// END layout and small-channel kernels
// =============================================================================================

// conv2d(buf, xOff, filterOff, yOff, <geometry>, outChannels): y = conv(x, filter), NHWC.
napi_value Conv2d(napi_env env, napi_callback_info info) {
  ConvGeom g;
  int co;
  ConvIo io;
  if (!GetConvArgs(env, info, &g, &co, &io)) return nullptr;
  const int patch = int(g.PatchSize());
  if (IsPointwise(g)) {
    Gemm(false, false, int(g.OutputRows()), co, patch, 1.f, io.x, io.w, 0.f, io.y);
    return Undefined(env);
  }
  if (UseTapPath(g, co)) {
    TapConv2d(g, co, io.x, io.w, io.y);
    return Undefined(env);
  }
  ParConv2d(g, co, io.x, io.w, io.y);
  return Undefined(env);
}

// conv2dBackpropInput(buf, dxOff, filterOff, dyOff, <geometry of the forward conv>, outChannels):
// dx = col2im(dy * filter^T). The geometry describes the forward conv whose input is dx.
napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  ConvGeom g;
  int co;
  ConvIo io;  // io.x is dx, io.y is dy
  if (!GetConvArgs(env, info, &g, &co, &io)) return nullptr;
  const int patch = int(g.PatchSize());
  if (IsPointwise(g)) {
    Gemm(false, true, int(g.OutputRows()), patch, co, 1.f, io.y, io.w, 0.f, io.x);
    return Undefined(env);
  }
  if (UseTapPath(g, co)) {
    TapConv2dBackpropInput(g, co, io.y, io.w, io.x);
    return Undefined(env);
  }
  ParConv2dBackpropInput(g, co, io.y, io.w, io.x);
  return Undefined(env);
}

// conv2dBackpropFilter(buf, xOff, dFilterOff, dyOff, <geometry>, outChannels):
// dFilter = im2col(x)^T * dy, accumulated over image chunks.
napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  ConvGeom g;
  int co;
  ConvIo io;  // io.w is dFilter, io.y is dy
  if (!GetConvArgs(env, info, &g, &co, &io)) return nullptr;
  const int patch = int(g.PatchSize());
  if (IsPointwise(g)) {
    Gemm(true, false, patch, co, int(g.OutputRows()), 1.f, io.x, io.y, 0.f, io.w);
    return Undefined(env);
  }
  if (UseTapPath(g, co)) {
    TapConv2dBackpropFilter(g, co, io.x, io.y, io.w);
    return Undefined(env);
  }
  ParConv2dBackpropFilter(g, co, io.x, io.y, io.w);
  return Undefined(env);
}

// im2col(src, srcOff, dst, dstOff, <geometry>): the patch matrix (n*oh*ow x kh*kw*c) of src.
napi_value Im2colFn(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  if (!Args(env, info, 4 + kGeomArgs, 4 + kGeomArgs, &a)) return nullptr;
  ConvGeom g;
  Span src, dst;
  uint64_t sOff, dOff;
  float *x, *col;
  if (!GetGeom(env, a, 4, &g) || !GetBuffer(env, a[0], "src", &src) || !GetIndex(env, a[1], "srcOffset", &sOff) ||
      !GetBuffer(env, a[2], "dst", &dst) || !GetIndex(env, a[3], "dstOffset", &dOff) ||
      !Region(env, src, sOff, g.InputFloats(), "src", &x) ||
      !Region(env, dst, dOff, g.OutputRows() * g.PatchSize(), "dst", &col)) {
    return nullptr;
  }
  Im2Col(g, x, col, 0, int64_t(g.OutputRows()));
  return Undefined(env);
}

// col2im(src, srcOff, dst, dstOff, <geometry>): dst (n*h*w*c) = sum of the patches in src.
napi_value Col2imFn(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  if (!Args(env, info, 4 + kGeomArgs, 4 + kGeomArgs, &a)) return nullptr;
  ConvGeom g;
  Span src, dst;
  uint64_t sOff, dOff;
  float *col, *x;
  if (!GetGeom(env, a, 4, &g) || !GetBuffer(env, a[0], "src", &src) || !GetIndex(env, a[1], "srcOffset", &sOff) ||
      !GetBuffer(env, a[2], "dst", &dst) || !GetIndex(env, a[3], "dstOffset", &dOff) ||
      !Region(env, src, sOff, g.OutputRows() * g.PatchSize(), "src", &col) ||
      !Region(env, dst, dOff, g.InputFloats(), "dst", &x)) {
    return nullptr;
  }
  std::memset(x, 0, sizeof(float) * g.InputFloats());
  Col2ImAdd(g, col, x, 0, g.n);
  return Undefined(env);
}

// Float32Array argument: data pointer (at the view's start) and length in elements.
bool GetF32Array(napi_env env, napi_value v, const char* name, float** data, size_t* length) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  napi_typedarray_type type;
  void* p = nullptr;
  napi_value ab;
  size_t byteOffset = 0;
  if (!is || napi_get_typedarray_info(env, v, &type, length, &p, &ab, &byteOffset) != napi_ok || type != napi_float32_array) {
    return ThrowType(env, std::string(name) + ": expected a Float32Array");
  }
  *data = static_cast<float*>(p);
  return true;
}

// x86-64 Linux builds get an AVX2 copy of the element-wise loops, picked at load time (ifunc),
// so one binary stays portable to older CPUs. FMA is not enabled: results do not depend on it.
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define PERTSET_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define PERTSET_MULTIVERSION
#endif

struct AdamParams {
  float lr, b1, b2, omb1, omb2, c1, c2, eps;
};

PERTSET_MULTIVERSION
void AdamChunk(const AdamParams& h, const float* __restrict w, const float* __restrict g, float* __restrict m,
               float* __restrict v, float* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float mi = h.b1 * m[i] + h.omb1 * gi;
    const float vi = h.b2 * v[i] + h.omb2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    out[i] = w[i] - (h.lr * (mi * h.c1)) / (std::sqrt(vi * h.c2) + h.eps);
  }
}

// adam(weights, grads, m, v, out, lr, beta1, beta2, epsilon, biasCorrection1, biasCorrection2)
// All Float32Arrays of one length (they may live on different buffers: the wasm heap for
// weights/grads/out, JS memory for the moments). m and v are updated in place, the new weights
// go to `out`, in float32 like tf.train.adam's kernels (the JS loop of kernel/api/backend/adam.ts
// evaluates the same formula in double; the two agree to float rounding):
//   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g;  out = w - lr*(m/bc1) / (sqrt(v/bc2) + eps)
napi_value Adam(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  if (!Args(env, info, 11, 11, &a)) return nullptr;
  const char* names[] = {"weights", "grads", "m", "v", "out"};
  float* p[5];
  size_t len[5];
  for (int i = 0; i < 5; i++) {
    if (!GetF32Array(env, a[i], names[i], &p[i], &len[i])) return nullptr;
    if (len[i] != len[0]) return ThrowRange(env, std::string(names[i]) + ": length " + std::to_string(len[i]) + " differs from weights (" + std::to_string(len[0]) + ")"), nullptr;
  }
  double h[6];
  const char* hn[] = {"learningRate", "beta1", "beta2", "epsilon", "biasCorrection1", "biasCorrection2"};
  for (int i = 0; i < 6; i++) {
    if (!GetNumber(env, a[5 + i], hn[i], &h[i])) return nullptr;
  }
  const AdamParams params = {float(h[0]), float(h[1]), float(h[2]), float(1 - h[1]), float(1 - h[2]),
                             float(1 / h[4]), float(1 / h[5]), float(h[3])};
  const int64_t N = int64_t(len[0]);
  // One thread: the vectorised loop is memory-bound (a second thread gained nothing here, and on
  // a busy machine the fork/join only adds waiting).
  AdamChunk(params, p[0], p[1], p[2], p[3], p[4], N);
  return Undefined(env);
}

// colSum(buf, srcOff, rows, cols, dstOff): dst[j] = sum_i src[i, j] (a bias gradient).
napi_value ColSum(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  if (!Args(env, info, 5, 5, &a)) return nullptr;
  Span buf;
  uint64_t sOff, rows, cols, dOff;
  float *src, *dst;
  if (!GetBuffer(env, a[0], "buf", &buf) || !GetIndex(env, a[1], "srcOffset", &sOff) ||
      !GetIndex(env, a[2], "rows", &rows) || !GetIndex(env, a[3], "cols", &cols) ||
      !GetIndex(env, a[4], "dstOffset", &dOff)) {
    return nullptr;
  }
  if (rows > 0 && cols > (1ULL << 60) / rows) return ThrowRange(env, "rows*cols overflows"), nullptr;
  if (!Region(env, buf, sOff, rows * cols, "src", &src) || !Region(env, buf, dOff, cols, "dst", &dst)) return nullptr;
  const int64_t R = rows, C = cols;
  // Per-thread partial sums over row blocks, then a serial combine: rows are long, cols short.
  int threads = 1;
#ifdef _OPENMP
  if (R * C > kParallelMin) threads = std::max(1, std::min<int>(g_threads, int(R)));
#endif
  std::vector<double> partial(size_t(threads) * C, 0.0);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (int t = 0; t < threads; t++) {
    const int64_t r0 = R * t / threads, r1 = R * (t + 1) / threads;
    double* acc = partial.data() + int64_t(t) * C;
    std::vector<float> blockAcc(C, 0.f);
    // Float accumulation in blocks of 256 rows keeps the inner loop vectorisable; the blocks are
    // summed in double so long columns do not lose precision.
    for (int64_t r = r0; r < r1; r += 256) {
      std::fill(blockAcc.begin(), blockAcc.end(), 0.f);
      const int64_t re = std::min(r1, r + 256);
      for (int64_t i = r; i < re; i++) {
        const float* row = src + i * C;
        for (int64_t j = 0; j < C; j++) blockAcc[j] += row[j];
      }
      for (int64_t j = 0; j < C; j++) acc[j] += blockAcc[j];
    }
  }
  for (int64_t j = 0; j < C; j++) {
    double s = 0;
    for (int t = 0; t < threads; t++) s += partial[size_t(t) * C + j];
    dst[j] = float(s);
  }
  return Undefined(env);
}

// ---------------------------------------------------------------------------------------------

void ApplyThreads(int n) {
  g_threads = n;
#ifndef PERTSET_ACCELERATE
  openblas_set_num_threads(n);
#endif
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
}

// setNumThreads(n): BLAS and OpenMP threads (n >= 1). Returns the value applied.
napi_value SetNumThreads(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  if (!Args(env, info, 1, 1, &a)) return nullptr;
  int n = 0;
  if (!GetDim(env, a[0], "threads", &n)) return nullptr;
  if (n < 1 || n > 1024) return ThrowRange(env, "threads must be between 1 and 1024"), nullptr;
  ApplyThreads(n);
  napi_value r;
  napi_create_int32(env, n, &r);
  return r;
}

void SetString(napi_env env, napi_value obj, const char* key, const std::string& s) {
  napi_value v;
  napi_create_string_utf8(env, s.c_str(), s.size(), &v);
  napi_set_named_property(env, obj, key, v);
}

void SetInt(napi_env env, napi_value obj, const char* key, int n) {
  napi_value v;
  napi_create_int32(env, n, &v);
  napi_set_named_property(env, obj, key, v);
}

// info(): { blas, config, core, threads, openmp, abi }
napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj;
  napi_create_object(env, &obj);
#ifdef PERTSET_ACCELERATE
  SetString(env, obj, "blas", "Accelerate");
  SetString(env, obj, "config", "Apple Accelerate (threads: VECLIB_MAXIMUM_THREADS)");
  SetString(env, obj, "core", "");
  SetInt(env, obj, "threads", g_threads);
#else
  const char* cfg = openblas_get_config();
  const char* core = openblas_get_corename();
  SetString(env, obj, "blas", "OpenBLAS");
  SetString(env, obj, "config", cfg ? cfg : "");
  SetString(env, obj, "core", core ? core : "");
  SetInt(env, obj, "threads", openblas_get_num_threads());
#endif
#ifdef _OPENMP
  SetInt(env, obj, "openmp", 1);
#else
  SetInt(env, obj, "openmp", 0);
#endif
  SetInt(env, obj, "abi", 1);
  return obj;
}

napi_value Init(napi_env env, napi_value exports) {
  struct Fn {
    const char* name;
    napi_callback cb;
  } fns[] = {{"sgemm", Sgemm},
             {"epilogue", Epilogue},
             {"conv2d", Conv2d},
             {"conv2dBackpropInput", Conv2dBackpropInput},
             {"conv2dBackpropFilter", Conv2dBackpropFilter},
             {"im2col", Im2colFn},
             {"col2im", Col2imFn},
             {"adam", Adam},
             {"colSum", ColSum},
             {"setNumThreads", SetNumThreads},
             {"info", Info},
             {"maxPoolGrad", MaxPoolGrad},              // layout and small-channel kernels
             {"resizeNearestGrad", ResizeNearestGrad},  // layout and small-channel kernels
             {"copyBlock", CopyBlock}};                 // layout and small-channel kernels
  for (const Fn& f : fns) {
    napi_value v;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &v);
    napi_set_named_property(env, exports, f.name, v);
  }
  unsigned hw = std::thread::hardware_concurrency();
  ApplyThreads(hw > 0 ? int(hw) : 1);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
