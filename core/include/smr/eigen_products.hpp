// Matrix products into buffers the caller keeps. Eigen packs the operands of a large product into
// two scratch blocks that it allocates and frees per product once they exceed its stack limit
// (EIGEN_STACK_ALLOCATION_LIMIT, 128 KB): for JᵀJ from a few hundred samples on, and for layers of
// more than about 64 neurons, that is an allocation every epoch. multiply() runs Eigen's own
// product with Eigen's own blocking — the same kernels on the same blocks, hence the same bits as
// `dst.noalias() = lhs * rhs` — on blocks held by a ProductBuffers.
//
// It uses Eigen 3.4's internal product interface (what Debian 12 ships); with any other version it
// is `dst.noalias() = lhs * rhs` and Eigen allocates as usual.
#pragma once

#include <Eigen/Dense>

#define SMR_EIGEN_PRODUCT_BUFFERS (EIGEN_VERSION_AT_LEAST(3, 4, 0) && !EIGEN_VERSION_AT_LEAST(3, 4, 90))

namespace smr {

#if SMR_EIGEN_PRODUCT_BUFFERS
class ProductBuffers : public Eigen::internal::level3_blocking<double, double> {
 public:
  // The bytes prepare() takes for such a product (0 when multiply() needs no blocks for it).
  static double bytes(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth) {
    if (depth + rows + cols < EIGEN_GEMM_TO_COEFFBASED_THRESHOLD || rows <= 1 || cols <= 1 || depth <= 0) return 0.0;
    Eigen::Index kc = depth, mc = rows, nc = cols;
    Eigen::internal::computeProductBlockingSizes<double, double, 1>(kc, mc, nc, Eigen::Index(1));
    return static_cast<double>(kc) * static_cast<double>(mc + nc) * sizeof(double);
  }

  // Eigen's blocking for a rows × depth by depth × cols product into a column-major result (the
  // blocking of generic_product_impl<…, GemmProduct>::scaleAndAddTo), on blocks that only grow.
  void prepare(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth) {
    m_mc = rows;
    m_nc = cols;
    m_kc = depth;
    Eigen::internal::computeProductBlockingSizes<double, double, 1>(m_kc, m_mc, m_nc, Eigen::Index(1));
    if (a_.size() < m_kc * m_mc) a_.resize(m_kc * m_mc);
    if (b_.size() < m_kc * m_nc) b_.resize(m_kc * m_nc);
    m_blockA = a_.data();
    m_blockB = b_.data();
  }

 private:
  Eigen::VectorXd a_, b_;  // Eigen's alignment, as its own blocks
};
#else
class ProductBuffers {
 public:
  static double bytes(Eigen::Index, Eigen::Index, Eigen::Index) { return 0.0; }  // Eigen's own, freed at once
};
#endif

// dst = lhs · rhs, as `dst.noalias() = lhs * rhs` evaluates it. dst must be column-major with unit
// inner stride and already have its shape (it is not resized).
template <typename Dst, typename Lhs, typename Rhs>
void multiply(Dst&& dst, const Lhs& lhs, const Rhs& rhs, ProductBuffers& buffers) {
#if SMR_EIGEN_PRODUCT_BUFFERS
  using LhsTraits = Eigen::internal::blas_traits<Lhs>;
  using RhsTraits = Eigen::internal::blas_traits<Rhs>;
  using LhsPlain = typename Eigen::internal::remove_all<typename LhsTraits::DirectLinearAccessType>::type;
  using RhsPlain = typename Eigen::internal::remove_all<typename RhsTraits::DirectLinearAccessType>::type;
  using DstPlain = typename Eigen::internal::remove_all<Dst>::type;
  static_assert(!(DstPlain::Flags & Eigen::RowMajorBit), "multiply: the result must be column-major");
  static_assert(DstPlain::InnerStrideAtCompileTime == 1, "multiply: the result must have unit inner stride");
  static_assert(!LhsTraits::NeedToConjugate && !RhsTraits::NeedToConjugate, "multiply: real operands only");
  const Eigen::Index rows = lhs.rows(), cols = rhs.cols(), depth = lhs.cols();
  // generic_product_impl::evalTo's own choice: a coefficient-wise product when tiny, a matrix–vector
  // product when the result is a vector; neither has scratch blocks.
  const bool tiny = depth + rows + cols < EIGEN_GEMM_TO_COEFFBASED_THRESHOLD && depth > 0;
  if (!tiny && rows > 1 && cols > 1 && depth > 0) {
    const auto& actual_lhs = LhsTraits::extract(lhs);
    const auto& actual_rhs = RhsTraits::extract(rhs);
    const double alpha = LhsTraits::extractScalarFactor(lhs) * RhsTraits::extractScalarFactor(rhs);
    dst.setZero();
    buffers.prepare(rows, cols, depth);
    Eigen::internal::general_matrix_matrix_product<
        Eigen::Index, double, (LhsPlain::Flags & Eigen::RowMajorBit) ? Eigen::RowMajor : Eigen::ColMajor, false, double,
        (RhsPlain::Flags & Eigen::RowMajorBit) ? Eigen::RowMajor : Eigen::ColMajor, false, Eigen::ColMajor,
        1>::run(rows, cols, depth, &actual_lhs.coeffRef(0, 0), actual_lhs.outerStride(), &actual_rhs.coeffRef(0, 0),
                actual_rhs.outerStride(), dst.data(), 1, dst.outerStride(), alpha, buffers, nullptr);
    return;
  }
#else
  (void)buffers;
#endif
  dst.noalias() = lhs * rhs;
}

}  // namespace smr
