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

// =============================================================================================
// Spatial-transformer and STN-block kernels (sampler, reflection padding, batch norm). NHWC,
// float32 in place on the caller's buffer. Each mirrors a plain-JS kernel in kernel/api/models
// (same operation order, double where the JS computes in double), so results agree to float32
// rounding and the JS versions stay the fallback.

// Geometry of affineGridSample / its gradient: batch, inH, inW, channels, outH, outW, alignCorners.
struct SampleGeom {
  int b, ih, iw, c, oh, ow;
  bool align;
};

constexpr size_t kSampleGeomArgs = 7;

bool GetSampleGeom(napi_env env, const std::vector<napi_value>& a, size_t first, SampleGeom* g) {
  const char* names[] = {"batch", "inHeight", "inWidth", "channels", "outHeight", "outWidth"};
  int* fields[] = {&g->b, &g->ih, &g->iw, &g->c, &g->oh, &g->ow};
  for (size_t i = 0; i < 6; i++) {
    if (!GetDim(env, a[first + i], names[i], fields[i])) return false;
  }
  double align = 0;
  if (!GetNumber(env, a[first + 6], "alignCorners", &align)) return false;
  g->align = align != 0;
  if (g->ih < 1 || g->iw < 1) return ThrowRange(env, "input height and width must be >= 1");
  if (double(g->b) * g->ih * g->iw * g->c > 1e15 || double(g->b) * g->oh * g->ow * g->c > 1e15) {
    return ThrowRange(env, "sampler geometry is too large");
  }
  return true;
}

// F.affine_grid's base coordinate of output index i along an axis of n pixels.
inline double BaseCoordinate(int i, int n, bool align) {
  if (align) return n > 1 ? -1 + (2.0 * i) / (n - 1) : 0;
  return (2.0 * i + 1) / n - 1;
}

// grid_sample's bilinear footprint after the border clip; grad* is 0 where the clip is active
// (PyTorch's clip_coordinates_set_grad: the border itself counts as clipped).
struct Tap {
  int x0, y0;
  double wx1, wy1, gradX, gradY;
};

inline Tap SampleTap(double xs, double ys, const SampleGeom& g) {
  double ix = g.align ? ((xs + 1) / 2) * (g.iw - 1) : ((xs + 1) * g.iw - 1) / 2;
  double iy = g.align ? ((ys + 1) / 2) * (g.ih - 1) : ((ys + 1) * g.ih - 1) / 2;
  Tap t;
  t.gradX = 1;
  t.gradY = 1;
  if (!(ix > 0)) { ix = 0; t.gradX = 0; } else if (ix >= g.iw - 1) { ix = g.iw - 1; t.gradX = 0; }
  if (!(iy > 0)) { iy = 0; t.gradY = 0; } else if (iy >= g.ih - 1) { iy = g.ih - 1; t.gradY = 0; }
  t.x0 = int(std::floor(ix));
  t.y0 = int(std::floor(iy));
  t.wx1 = ix - t.x0;
  t.wy1 = iy - t.y0;
  return t;
}

// Threads for a sampler call over the batch: each image's footprint computation is ~30 flops per
// output pixel, so (unlike the memory-bound element-wise loops) a batch of MNIST canvases is
// already worth splitting.
int SampleThreads(const SampleGeom& g) {
  if (g.b < 2 || int64_t(g.b) * g.oh * g.ow * std::max(1, g.c) < (int64_t(1) << 15)) return 1;
  return TaskThreads(g.b);
}

// affineGridSample(buf, imageOff, thetaOff, outOff, <sample geometry>):
// out[b, i, j, :] = bilinear sample of image[b] at theta[b] · (x_j, y_i, 1), border padding.
napi_value AffineGridSample(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  if (!Args(env, info, 4 + kSampleGeomArgs, 4 + kSampleGeomArgs, &a)) return nullptr;
  SampleGeom g;
  Span buf;
  uint64_t imOff, thOff, outOff;
  float *image, *theta, *out;
  if (!GetSampleGeom(env, a, 4, &g) || !GetBuffer(env, a[0], "buf", &buf) || !GetIndex(env, a[1], "imageOffset", &imOff) ||
      !GetIndex(env, a[2], "thetaOffset", &thOff) || !GetIndex(env, a[3], "outOffset", &outOff) ||
      !Region(env, buf, imOff, uint64_t(g.b) * g.ih * g.iw * g.c, "image", &image) ||
      !Region(env, buf, thOff, uint64_t(g.b) * 6, "theta", &theta) ||
      !Region(env, buf, outOff, uint64_t(g.b) * g.oh * g.ow * g.c, "out", &out)) {
    return nullptr;
  }
  const int C = g.c;
  const int64_t inStride = int64_t(g.ih) * g.iw * C;
  const int threads = SampleThreads(g);
  // Images are independent (each writes its own output), so they are split across threads.
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (int b = 0; b < g.b; b++) {
    const double t0 = theta[6 * b], t1 = theta[6 * b + 1], t2 = theta[6 * b + 2];
    const double t3 = theta[6 * b + 3], t4 = theta[6 * b + 4], t5 = theta[6 * b + 5];
    const float* img = image + b * inStride;
    for (int i = 0; i < g.oh; i++) {
      const double yn = BaseCoordinate(i, g.oh, g.align);
      for (int j = 0; j < g.ow; j++) {
        const double xn = BaseCoordinate(j, g.ow, g.align);
        const Tap p = SampleTap(t0 * xn + t1 * yn + t2, t3 * xn + t4 * yn + t5, g);
        const bool hasX1 = p.x0 + 1 < g.iw, hasY1 = p.y0 + 1 < g.ih;
        const double w00 = (1 - p.wx1) * (1 - p.wy1), w01 = p.wx1 * (1 - p.wy1);
        const double w10 = (1 - p.wx1) * p.wy1, w11 = p.wx1 * p.wy1;
        const float* r0 = img + (int64_t(p.y0) * g.iw + p.x0) * C;
        const float* r1 = r0 + int64_t(g.iw) * C;
        float* o = out + ((int64_t(b) * g.oh + i) * g.ow + j) * C;
        for (int c = 0; c < C; c++) {
          double v = w00 * r0[c];
          if (hasX1) v += w01 * r0[C + c];
          if (hasY1) {
            v += w10 * r1[c];
            if (hasX1) v += w11 * r1[C + c];
          }
          o[c] = float(v);
        }
      }
    }
  }
  return Undefined(env);
}

// affineGridSampleGrad(buf, dyOff, imageOff, thetaOff, dImageOff, dThetaOff, <sample geometry>, outputs):
// the gradients of sum(dy · affineGridSample(image, theta)) with respect to image (outputs bit 1)
// and theta (bit 2); the offset of an output not asked for is ignored. The latent attacks and the
// CVAE's training differentiate only through theta (the sampled image is the data), which skips
// the scatter into dImage.
napi_value AffineGridSampleGrad(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  if (!Args(env, info, 7 + kSampleGeomArgs, 7 + kSampleGeomArgs, &a)) return nullptr;
  SampleGeom g;
  Span buf;
  uint64_t dyOff, imOff, thOff, diOff, dtOff;
  int outputs = 0;
  float *dy, *image, *theta, *dImage = nullptr, *dTheta = nullptr;
  if (!GetSampleGeom(env, a, 6, &g) || !GetDim(env, a[6 + kSampleGeomArgs], "outputs", &outputs) ||
      !GetBuffer(env, a[0], "buf", &buf) || !GetIndex(env, a[1], "dyOffset", &dyOff) ||
      !GetIndex(env, a[2], "imageOffset", &imOff) || !GetIndex(env, a[3], "thetaOffset", &thOff) ||
      !GetIndex(env, a[4], "dImageOffset", &diOff) || !GetIndex(env, a[5], "dThetaOffset", &dtOff) ||
      !Region(env, buf, dyOff, uint64_t(g.b) * g.oh * g.ow * g.c, "dy", &dy) ||
      !Region(env, buf, imOff, uint64_t(g.b) * g.ih * g.iw * g.c, "image", &image) ||
      !Region(env, buf, thOff, uint64_t(g.b) * 6, "theta", &theta)) {
    return nullptr;
  }
  if (outputs < 1 || outputs > 3) return ThrowRange(env, "outputs must be 1 (image), 2 (theta) or 3 (both)"), nullptr;
  const bool wantImage = outputs & 1, wantTheta = outputs & 2;
  if ((wantImage && !Region(env, buf, diOff, uint64_t(g.b) * g.ih * g.iw * g.c, "dImage", &dImage)) ||
      (wantTheta && !Region(env, buf, dtOff, uint64_t(g.b) * 6, "dTheta", &dTheta))) {
    return nullptr;
  }
  const int C = g.c;
  const int64_t inStride = int64_t(g.ih) * g.iw * C;
  if (wantImage) std::memset(dImage, 0, sizeof(float) * uint64_t(g.b) * inStride);
  // d(unnormalised)/d(normalised) coordinate.
  const double scaleX = g.align ? (g.iw - 1) / 2.0 : g.iw / 2.0;
  const double scaleY = g.align ? (g.ih - 1) / 2.0 : g.ih / 2.0;
  const int threads = SampleThreads(g);
  // Each image reads and writes only its own slices of dImage and dTheta: split across threads.
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (int b = 0; b < g.b; b++) {
    const double t0 = theta[6 * b], t1 = theta[6 * b + 1], t2 = theta[6 * b + 2];
    const double t3 = theta[6 * b + 3], t4 = theta[6 * b + 4], t5 = theta[6 * b + 5];
    const float* img = image + b * inStride;
    float* dImg = wantImage ? dImage + b * inStride : nullptr;
    double d0 = 0, d1 = 0, d2 = 0, d3 = 0, d4 = 0, d5 = 0;
    for (int i = 0; i < g.oh; i++) {
      const double yn = BaseCoordinate(i, g.oh, g.align);
      for (int j = 0; j < g.ow; j++) {
        const double xn = BaseCoordinate(j, g.ow, g.align);
        const Tap p = SampleTap(t0 * xn + t1 * yn + t2, t3 * xn + t4 * yn + t5, g);
        const bool hasX1 = p.x0 + 1 < g.iw, hasY1 = p.y0 + 1 < g.ih;
        const double wx0 = 1 - p.wx1, wy0 = 1 - p.wy1;
        const int64_t r0 = (int64_t(p.y0) * g.iw + p.x0) * C, r1 = r0 + int64_t(g.iw) * C;
        const float* go = dy + ((int64_t(b) * g.oh + i) * g.ow + j) * C;
        double gix = 0, giy = 0;
        for (int c = 0; c < C; c++) {
          const double d = go[c];
          const double v00 = img[r0 + c];
          const double v01 = hasX1 ? img[r0 + C + c] : 0;
          const double v10 = hasY1 ? img[r1 + c] : 0;
          const double v11 = hasX1 && hasY1 ? img[r1 + C + c] : 0;
          if (dImg) {
            dImg[r0 + c] = float(dImg[r0 + c] + wx0 * wy0 * d);
            if (hasX1) dImg[r0 + C + c] = float(dImg[r0 + C + c] + p.wx1 * wy0 * d);
            if (hasY1) {
              dImg[r1 + c] = float(dImg[r1 + c] + wx0 * p.wy1 * d);
              if (hasX1) dImg[r1 + C + c] = float(dImg[r1 + C + c] + p.wx1 * p.wy1 * d);
            }
          }
          gix += d * (wy0 * (v01 - v00) + p.wy1 * (v11 - v10));
          giy += d * (wx0 * (v10 - v00) + p.wx1 * (v11 - v01));
        }
        gix *= p.gradX * scaleX;
        giy *= p.gradY * scaleY;
        d0 += gix * xn; d1 += gix * yn; d2 += gix;
        d3 += giy * xn; d4 += giy * yn; d5 += giy;
      }
    }
    if (!wantTheta) continue;
    float* dt = dTheta + 6 * b;
    dt[0] = float(d0); dt[1] = float(d1); dt[2] = float(d2);
    dt[3] = float(d3); dt[4] = float(d4); dt[5] = float(d5);
  }
  return Undefined(env);
}

// Reflection (PyTorch's ReflectionPad: the edge is not repeated) of index i into [0, n).
inline int64_t Reflect(int64_t i, int64_t n) {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

// reflectPad2d(buf, xOff, yOff, batch, height, width, channels, pad, gradient):
// gradient 0: y [b, h+2p, w+2p, c] = x reflection-padded by p on both spatial axes.
// gradient 1: the adjoint, x = sum of y's entries over the positions that copy each x entry.
napi_value ReflectPad2d(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  if (!Args(env, info, 9, 9, &a)) return nullptr;
  Span buf;
  uint64_t xOff, yOff;
  int n, h, w, c, p;
  double grad = 0;
  float *x, *y;
  if (!GetBuffer(env, a[0], "buf", &buf) || !GetIndex(env, a[1], "xOffset", &xOff) || !GetIndex(env, a[2], "yOffset", &yOff) ||
      !GetDim(env, a[3], "batch", &n) || !GetDim(env, a[4], "height", &h) || !GetDim(env, a[5], "width", &w) ||
      !GetDim(env, a[6], "channels", &c) || !GetDim(env, a[7], "pad", &p) || !GetNumber(env, a[8], "gradient", &grad)) {
    return nullptr;
  }
  if (p >= h || p >= w) return ThrowRange(env, "pad must be smaller than height and width"), nullptr;
  const int64_t ph = int64_t(h) + 2 * p, pw = int64_t(w) + 2 * p;
  if (double(n) * ph * pw * c > 1e15) return ThrowRange(env, "reflectPad2d geometry is too large"), nullptr;
  if (!Region(env, buf, xOff, uint64_t(n) * h * w * c, "x", &x) || !Region(env, buf, yOff, uint64_t(n) * ph * pw * c, "y", &y)) {
    return nullptr;
  }
  const int64_t rowX = int64_t(w) * c, rowY = pw * c;
  if (grad == 0) {
    for (int64_t b = 0; b < n; b++) {
      const float* xb = x + b * h * rowX;
      float* yb = y + b * ph * rowY;
      for (int64_t i = 0; i < ph; i++) {
        const float* src = xb + Reflect(i - p, h) * rowX;
        float* dst = yb + i * rowY;
        for (int64_t j = 0; j < p; j++) std::memcpy(dst + j * c, src + Reflect(j - p, w) * c, sizeof(float) * c);
        std::memcpy(dst + int64_t(p) * c, src, sizeof(float) * rowX);
        for (int64_t j = p + int64_t(w); j < pw; j++) std::memcpy(dst + j * c, src + Reflect(j - p, w) * c, sizeof(float) * c);
      }
    }
  } else {
    // Centre first (a copy), then the reflected rows and columns added onto it.
    for (int64_t b = 0; b < n; b++) {
      float* xb = x + b * h * rowX;
      const float* yb = y + b * ph * rowY;
      for (int64_t i = 0; i < h; i++) std::memcpy(xb + i * rowX, yb + (i + p) * rowY + int64_t(p) * c, sizeof(float) * rowX);
      for (int64_t i = 0; i < ph; i++) {
        float* dst = xb + Reflect(i - p, h) * rowX;
        const float* src = yb + i * rowY;
        const bool padRow = i < p || i >= p + h;
        for (int64_t j = 0; j < pw; j++) {
          const bool padCol = j < p || j >= p + w;
          if (!padRow && !padCol) continue;
          float* d = dst + Reflect(j - p, w) * c;
          const float* s = src + j * c;
          for (int64_t k = 0; k < c; k++) d[k] += s[k];
        }
      }
    }
  }
  return Undefined(env);
}

// channelAffine(buf, xOff, meanOff, scaleOff, betaOff, yOff, rows, channels): y = (x - mean) * scale
// + beta per channel over the rows of an NHWC tensor seen as rows x channels, each step rounded to
// float32 as tfjs's Sub, Mul and Add are: eval-mode batch norm (BatchNorm2d.apply) in one pass
// instead of three broadcasting kernels. Its gradient to x is the same call with mean = beta = 0.
napi_value ChannelAffine(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  if (!Args(env, info, 8, 8, &a)) return nullptr;
  Span buf;
  uint64_t off[5], rows, cols;
  const char* names[] = {"xOffset", "meanOffset", "scaleOffset", "betaOffset", "yOffset"};
  if (!GetBuffer(env, a[0], "buf", &buf)) return nullptr;
  for (int i = 0; i < 5; i++) {
    if (!GetIndex(env, a[1 + i], names[i], &off[i])) return nullptr;
  }
  if (!GetIndex(env, a[6], "rows", &rows) || !GetIndex(env, a[7], "channels", &cols)) return nullptr;
  if (rows == 0 || cols == 0 || cols > (1ULL << 40) / rows) return ThrowRange(env, "channelAffine: rows and channels must be positive and not overflow"), nullptr;
  float *x, *mean, *scale, *beta, *y;
  if (!Region(env, buf, off[0], rows * cols, "x", &x) || !Region(env, buf, off[1], cols, "mean", &mean) ||
      !Region(env, buf, off[2], cols, "scale", &scale) || !Region(env, buf, off[3], cols, "beta", &beta) ||
      !Region(env, buf, off[4], rows * cols, "y", &y)) {
    return nullptr;
  }
  const int64_t R = rows, C = cols;
  for (int64_t r = 0; r < R; r++) {
    const float* row = x + r * C;
    float* out = y + r * C;
    for (int64_t j = 0; j < C; j++) {
      const float centred = row[j] - mean[j];
      const float scaled = centred * scale[j];
      out[j] = scaled + beta[j];
    }
  }
  return Undefined(env);
}

// batchNormTrain(buf, xOff, gammaOff, betaOff, yOff, meanOff, varOff, rows, channels, epsilon):
// training-mode batch norm over the rows of an NHWC tensor seen as rows x channels: the batch
// mean and biased variance (accumulated in double, stored as float32), then
// y = (x - mean) * (rsqrt(var + eps) * gamma) + beta in float32, the order of BatchNorm2d.apply.
napi_value BatchNormTrain(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  if (!Args(env, info, 10, 10, &a)) return nullptr;
  Span buf;
  uint64_t off[6], rows, cols;
  float eps;
  const char* names[] = {"xOffset", "gammaOffset", "betaOffset", "yOffset", "meanOffset", "varianceOffset"};
  if (!GetBuffer(env, a[0], "buf", &buf)) return nullptr;
  for (int i = 0; i < 6; i++) {
    if (!GetIndex(env, a[1 + i], names[i], &off[i])) return nullptr;
  }
  if (!GetIndex(env, a[7], "rows", &rows) || !GetIndex(env, a[8], "channels", &cols) || !GetFloat(env, a[9], "epsilon", &eps)) return nullptr;
  if (rows == 0 || cols == 0 || cols > (1ULL << 40) / rows) return ThrowRange(env, "batchNormTrain: rows and channels must be positive and not overflow"), nullptr;
  float *x, *gamma, *beta, *y, *mean, *var;
  if (!Region(env, buf, off[0], rows * cols, "x", &x) || !Region(env, buf, off[1], cols, "gamma", &gamma) ||
      !Region(env, buf, off[2], cols, "beta", &beta) || !Region(env, buf, off[3], rows * cols, "y", &y) ||
      !Region(env, buf, off[4], cols, "mean", &mean) || !Region(env, buf, off[5], cols, "variance", &var)) {
    return nullptr;
  }
  const int64_t R = rows, C = cols;
  std::vector<double> sum(C, 0.0), sq(C, 0.0);
  for (int64_t r = 0; r < R; r++) {
    const float* row = x + r * C;
    for (int64_t j = 0; j < C; j++) sum[j] += row[j];
  }
  std::vector<float> m(C), scale(C);
  for (int64_t j = 0; j < C; j++) m[j] = mean[j] = float(sum[j] / double(R));
  for (int64_t r = 0; r < R; r++) {
    const float* row = x + r * C;
    for (int64_t j = 0; j < C; j++) {
      const double d = double(row[j]) - double(m[j]);
      sq[j] += d * d;
    }
  }
  for (int64_t j = 0; j < C; j++) {
    var[j] = float(sq[j] / double(R));
    scale[j] = float(1.0 / std::sqrt(double(var[j] + eps))) * gamma[j];
  }
  for (int64_t r = 0; r < R; r++) {
    const float* row = x + r * C;
    float* out = y + r * C;
    for (int64_t j = 0; j < C; j++) out[j] = (row[j] - m[j]) * scale[j] + beta[j];
  }
  return Undefined(env);
}

// batchNormTrainGrad(buf, dyOff, xOff, gammaOff, meanOff, varOff, dxOff, dGammaOff, dBetaOff, rows, channels, epsilon):
// the chain rule of batchNormTrain through the batch statistics:
//   dBeta = Σ dy, dGamma = Σ dy·x̂, dx = γ·s·(dy − dBeta/N − x̂·dGamma/N), x̂ = (x − mean)·s, s = rsqrt(var + eps).
napi_value BatchNormTrainGrad(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  if (!Args(env, info, 12, 12, &a)) return nullptr;
  Span buf;
  uint64_t off[8], rows, cols;
  float eps;
  const char* names[] = {"dyOffset", "xOffset", "gammaOffset", "meanOffset", "varianceOffset", "dxOffset", "dGammaOffset", "dBetaOffset"};
  if (!GetBuffer(env, a[0], "buf", &buf)) return nullptr;
  for (int i = 0; i < 8; i++) {
    if (!GetIndex(env, a[1 + i], names[i], &off[i])) return nullptr;
  }
  if (!GetIndex(env, a[9], "rows", &rows) || !GetIndex(env, a[10], "channels", &cols) || !GetFloat(env, a[11], "epsilon", &eps)) return nullptr;
  if (rows == 0 || cols == 0 || cols > (1ULL << 40) / rows) return ThrowRange(env, "batchNormTrainGrad: rows and channels must be positive and not overflow"), nullptr;
  float *dy, *x, *gamma, *mean, *var, *dx, *dGamma, *dBeta;
  if (!Region(env, buf, off[0], rows * cols, "dy", &dy) || !Region(env, buf, off[1], rows * cols, "x", &x) ||
      !Region(env, buf, off[2], cols, "gamma", &gamma) || !Region(env, buf, off[3], cols, "mean", &mean) ||
      !Region(env, buf, off[4], cols, "variance", &var) || !Region(env, buf, off[5], rows * cols, "dx", &dx) ||
      !Region(env, buf, off[6], cols, "dGamma", &dGamma) || !Region(env, buf, off[7], cols, "dBeta", &dBeta)) {
    return nullptr;
  }
  const int64_t R = rows, C = cols;
  std::vector<double> s(C), sumDy(C, 0.0), sumDyXhat(C, 0.0);
  for (int64_t j = 0; j < C; j++) s[j] = 1.0 / std::sqrt(double(var[j]) + double(eps));
  for (int64_t r = 0; r < R; r++) {
    const float* g = dy + r * C;
    const float* xr = x + r * C;
    for (int64_t j = 0; j < C; j++) {
      sumDy[j] += g[j];
      sumDyXhat[j] += double(g[j]) * ((double(xr[j]) - mean[j]) * s[j]);
    }
  }
  std::vector<double> k(C), meanDy(C), meanDyXhat(C);
  for (int64_t j = 0; j < C; j++) {
    dBeta[j] = float(sumDy[j]);
    dGamma[j] = float(sumDyXhat[j]);
    k[j] = double(gamma[j]) * s[j];
    meanDy[j] = sumDy[j] / double(R);
    meanDyXhat[j] = sumDyXhat[j] / double(R);
  }
  for (int64_t r = 0; r < R; r++) {
    const float* g = dy + r * C;
    const float* xr = x + r * C;
    float* out = dx + r * C;
    for (int64_t j = 0; j < C; j++) {
      const double xhat = (double(xr[j]) - mean[j]) * s[j];
      out[j] = float(k[j] * (double(g[j]) - meanDy[j] - xhat * meanDyXhat[j]));
    }
  }
  return Undefined(env);
}

// Direct convolutions for few channels (stride 1, no dilation): the STN blocks' 5x5 convs with
// 1, 2 and 5 channels, where im2col + SGEMM has N = 1..5 columns and spends its time writing
// and re-reading a patch matrix 25x the input. Each image is copied into a zero-padded planar
// (channel, row, column) buffer that stays in cache, and every tap is a row-wide multiply-add
// that vectorises over the output columns.

// Extra bottom/right zero padding implied by a stride-1 geometry (tfjs's outHeight/outWidth).
inline int64_t PadBottom(const ConvGeom& g) { return int64_t(g.oh) + g.kh - 1 - g.h - g.pt; }
inline int64_t PadRight(const ConvGeom& g) { return int64_t(g.ow) + g.kw - 1 - g.w - g.pl; }

bool DirectConvGeometry(napi_env env, const ConvGeom& g) {
  if (g.sh != 1 || g.sw != 1 || g.dh != 1 || g.dw != 1 || g.kh < 1 || g.kw < 1 || g.oh < 1 || g.ow < 1 ||
      PadBottom(g) < 0 || PadRight(g) < 0 || g.pt > g.kh + g.h || g.pl > g.kw + g.w) {
    return ThrowRange(env, "direct convolution needs stride 1, dilation 1 and non-negative padding");
  }
  return true;
}

// planar[ci][r][c] = src[r - top][c - left][ci] (NHWC image of h x w x C), zero outside; rows x cols.
PERTSET_MULTIVERSION
void ToPlanar(const float* src, int h, int w, int C, int64_t top, int64_t left, int64_t rows, int64_t cols, float* planar) {
  std::memset(planar, 0, sizeof(float) * C * rows * cols);
  for (int64_t r = 0; r < rows; r++) {
    const int64_t iy = r - top;
    if (iy < 0 || iy >= h) continue;
    for (int64_t c = 0; c < cols; c++) {
      const int64_t ix = c - left;
      if (ix < 0 || ix >= w) continue;
      const float* s = src + (iy * w + ix) * C;
      for (int ci = 0; ci < C; ci++) planar[(ci * rows + r) * cols + c] = s[ci];
    }
  }
}

// acc[o][0..n) = sum over taps (ci, ky, kx) of filter weight * shifted planar row, for O outputs.
// Rows of `planar` are `cols` apart; the weight of tap (ky, kx, ci) for output o is
// w[(ky*kw + kx)*tapStride + ci*chStride + o*outStride]. `flip` mirrors the taps (backprop input).
// Register-blocked: 2 outputs x 32 columns (8 vector accumulators) per pass over the taps, so each
// loaded row segment serves two outputs and no partial sums go through memory.
// Inlined into each instruction-set clone of its caller (a separate function would be SSE2-only).
#if defined(__GNUC__)
#define PERTSET_INLINE inline __attribute__((always_inline))
#else
#define PERTSET_INLINE inline
#endif

struct TapPlan {
  const float* planar;
  int64_t planeRows, cols;
  int C, kh, kw;
  int64_t rowBase, colBase;
  bool flip;
  const float* w;
  int64_t tapStride, chStride, outStride;
};

template <int OB, int JB>
PERTSET_INLINE void TapBlock(const TapPlan& p, int o, int64_t j, float* __restrict acc, int64_t n) {
  float a[OB][JB];
  for (int b = 0; b < OB; b++)
    for (int l = 0; l < JB; l++) a[b][l] = 0.f;
  for (int ci = 0; ci < p.C; ci++) {
    for (int ky = 0; ky < p.kh; ky++) {
      const int64_t r = p.flip ? p.rowBase + (p.kh - 1 - ky) : p.rowBase + ky;
      const float* row = p.planar + (int64_t(ci) * p.planeRows + r) * p.cols + p.colBase + j;
      for (int kx = 0; kx < p.kw; kx++) {
        const float* __restrict src = row + (p.flip ? p.kw - 1 - kx : kx);
        const float* wk = p.w + (int64_t(ky) * p.kw + kx) * p.tapStride + int64_t(ci) * p.chStride + int64_t(o) * p.outStride;
        for (int b = 0; b < OB; b++) {
          const float wv = wk[b * p.outStride];
          for (int l = 0; l < JB; l++) a[b][l] += wv * src[l];
        }
      }
    }
  }
  for (int b = 0; b < OB; b++)
    for (int l = 0; l < JB; l++) acc[(o + b) * n + j + l] = a[b][l];
}

template <int OB>
PERTSET_INLINE void TapOutputs(const TapPlan& p, int o, float* acc, int64_t n) {
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) TapBlock<OB, 32>(p, o, j, acc, n);
  for (; j + 8 <= n; j += 8) TapBlock<OB, 8>(p, o, j, acc, n);
  // The last few columns: one more 8-wide block ending at n (it rewrites some columns with the
  // same values: every block assigns its sums, nothing accumulates across blocks).
  if (j < n && n >= 8) j = n - 8, TapBlock<OB, 8>(p, o, j, acc, n), j = n;
  for (; j < n; j++) TapBlock<OB, 1>(p, o, j, acc, n);
}

PERTSET_MULTIVERSION
void TapRows(const float* planar, int64_t planeRows, int64_t cols, int C, int kh, int kw, int64_t rowBase,
             bool flip, const float* w, int64_t tapStride, int64_t chStride, int64_t outStride, int O,
             float* acc, int64_t n, int64_t colBase) {
  const TapPlan p{planar, planeRows, cols, C, kh, kw, rowBase, colBase, flip, w, tapStride, chStride, outStride};
  int o = 0;
  for (; o + 2 <= O; o += 2) TapOutputs<2>(p, o, acc, n);
  for (; o < O; o++) TapOutputs<1>(p, o, acc, n);
}

// Which op a direct-conv call computes.
enum DirectMode { kForward = 0, kBackpropInput = 1, kBackpropFilter = 2 };

// One image's filter gradient: dw[tap][o] += sum over rows oy and columns of the shifted planar x
// row times the dy row. Each (tap, o) is a dot product over the whole image, accumulated in 32
// vector lanes (no partial sums through memory) and added to `dw` in double.
template <int JB>
PERTSET_INLINE float DotRows(const float* x, int64_t xStride, const float* d, int64_t dStride, int64_t rows, int64_t j) {
  float a[JB];
  for (int l = 0; l < JB; l++) a[l] = 0.f;
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict xs = x + r * xStride + j;
    const float* __restrict ds = d + r * dStride + j;
    for (int l = 0; l < JB; l++) a[l] += xs[l] * ds[l];
  }
  float s = 0.f;
  for (int l = 0; l < JB; l++) s += a[l];
  return s;
}

PERTSET_MULTIVERSION
void FilterImage(const float* planar, int64_t planeRows, int64_t cols, const float* dyPlanar, const ConvGeom& g, int co, double* dw) {
  const int64_t ow = g.ow, oh = g.oh;
  for (int ky = 0; ky < g.kh; ky++) {
    for (int kx = 0; kx < g.kw; kx++) {
      for (int ci = 0; ci < g.c; ci++) {
        const float* x = planar + (int64_t(ci) * planeRows + ky) * cols + kx;
        double* tap = dw + ((int64_t(ky) * g.kw + kx) * g.c + ci) * co;
        for (int o = 0; o < co; o++) {
          const float* d = dyPlanar + int64_t(o) * oh * ow;
          int64_t j = 0;
          float s = 0.f;
          for (; j + 32 <= ow; j += 32) s += DotRows<32>(x, cols, d, ow, oh, j);
          for (; j + 8 <= ow; j += 8) s += DotRows<8>(x, cols, d, ow, oh, j);
          for (; j < ow; j++) s += DotRows<1>(x, cols, d, ow, oh, j);
          tap[o] += s;
        }
      }
    }
  }
}

// One image of a direct conv. Forward: x -> y. Backprop input: dy -> dx (the full correlation
// with the flipped filter). Backprop filter: adds this image's dFilter into `dw` (double).
void DirectConvImage(DirectMode mode, const ConvGeom& g, int co, float* x, const float* w, float* y, double* dw,
                     std::vector<float>& planar, std::vector<float>& planar2, std::vector<float>& acc) {
  const int64_t hp = int64_t(g.oh) + g.kh - 1, wp = int64_t(g.ow) + g.kw - 1;
  if (mode == kForward) {
    planar.resize(size_t(g.c) * hp * wp);
    acc.resize(size_t(co) * g.ow);
    ToPlanar(x, g.h, g.w, g.c, g.pt, g.pl, hp, wp, planar.data());
    for (int64_t oy = 0; oy < g.oh; oy++) {
      std::fill(acc.begin(), acc.end(), 0.f);
      TapRows(planar.data(), hp, wp, g.c, g.kh, g.kw, oy, false, w, int64_t(g.c) * co, co, 1, co, acc.data(), g.ow, 0);
      float* out = y + oy * g.ow * co;
      for (int64_t ox = 0; ox < g.ow; ox++) {
        for (int o = 0; o < co; o++) out[ox * co + o] = acc[o * g.ow + ox];
      }
    }
  } else if (mode == kBackpropInput) {
    // dy zero-padded by k-1 on every side; dx[iy][ix] gathers dy[iy + pt - ky][ix + pl - kx].
    const int64_t hd = int64_t(g.oh) + 2 * (g.kh - 1), wd = int64_t(g.ow) + 2 * (g.kw - 1);
    planar.resize(size_t(co) * hd * wd);
    acc.resize(size_t(g.c) * g.w);
    ToPlanar(y, g.oh, g.ow, co, g.kh - 1, g.kw - 1, hd, wd, planar.data());
    for (int64_t iy = 0; iy < g.h; iy++) {
      std::fill(acc.begin(), acc.end(), 0.f);
      // Input channel o of the planar dy is the forward's output channel; the taps' weights for
      // (ky, kx, o) run over the forward's input channels with stride co.
      TapRows(planar.data(), hd, wd, co, g.kh, g.kw, iy + g.pt, true, w, int64_t(g.c) * co, 1, co, g.c, acc.data(), g.w, g.pl);
      float* out = x + iy * int64_t(g.w) * g.c;
      for (int64_t ix = 0; ix < g.w; ix++) {
        for (int ci = 0; ci < g.c; ci++) out[ix * g.c + ci] = acc[ci * int64_t(g.w) + ix];
      }
    }
  } else {
    planar.resize(size_t(g.c) * hp * wp);
    planar2.resize(size_t(co) * g.oh * g.ow);
    ToPlanar(x, g.h, g.w, g.c, g.pt, g.pl, hp, wp, planar.data());
    ToPlanar(y, g.oh, g.ow, co, 0, 0, g.oh, g.ow, planar2.data());
    FilterImage(planar.data(), hp, wp, planar2.data(), g, co, dw);
  }
}

// conv2dDirect(buf, xOff, filterOff, yOff, <geometry>, outChannels, mode): mode 0 y = conv(x),
// 1 x = backprop-input(y = dy), 2 filter = backprop-filter(x, y = dy). Same regions as conv2d.
napi_value Conv2dDirect(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  if (!Args(env, info, 6 + kGeomArgs, 6 + kGeomArgs, &a)) return nullptr;
  ConvGeom g;
  int co, mode;
  ConvIo io;
  if (!GetGeom(env, a, 4, &g) || !GetDim(env, a[4 + kGeomArgs], "outChannels", &co) || !GetDim(env, a[5 + kGeomArgs], "mode", &mode) ||
      !GetConvIo(env, a, g, co, &io) || !DirectConvGeometry(env, g)) {
    return nullptr;
  }
  if (mode > kBackpropFilter) return ThrowRange(env, "mode must be 0, 1 or 2"), nullptr;
  const DirectMode m = DirectMode(mode);
  const int64_t inImage = int64_t(g.h) * g.w * g.c, outImage = int64_t(g.oh) * g.ow * co;
  const int64_t taps = int64_t(g.kh) * g.kw * g.c * co;
  const bool parallel = int64_t(g.n) * g.oh * g.ow * taps > kParallelMin && g.n > 1;
  int threads = 1;
#ifdef _OPENMP
  if (parallel) threads = std::max(1, std::min<int>(g_threads, g.n));
#endif
  std::vector<double> dw(m == kBackpropFilter ? size_t(threads) * taps : 0, 0.0);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    int t = 0;
#ifdef _OPENMP
    t = omp_get_thread_num();
#endif
    std::vector<float> planar, planar2, acc;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < g.n; i++) {
      DirectConvImage(m, g, co, io.x + i * inImage, io.w, io.y + i * outImage, m == kBackpropFilter ? dw.data() + t * taps : nullptr,
                      planar, planar2, acc);
    }
  }
  if (m == kBackpropFilter) {
    for (int64_t k = 0; k < taps; k++) {
      double s = 0;
      for (int t = 0; t < threads; t++) s += dw[size_t(t) * taps + k];
      io.w[k] = float(s);
    }
  }
  return Undefined(env);
}

// ============================================================================= end of STN kernels

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
             {"affineGridSample", AffineGridSample},
             {"affineGridSampleGrad", AffineGridSampleGrad},
             {"reflectPad2d", ReflectPad2d},
             {"batchNormTrain", BatchNormTrain},
             {"batchNormTrainGrad", BatchNormTrainGrad},
             {"channelAffine", ChannelAffine},
             {"conv2dDirect", Conv2dDirect},
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
