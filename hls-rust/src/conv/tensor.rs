//! A plain dense 4-D tensor: NCHW for activations and gradients, MNKK for
//! weights. The golden model works on these; [`crate::conv::layout`]
//! converts them to and from the hardware memory image.

use std::ops::{Index, IndexMut};

/// Shapes that do not fit together, with a message naming the tensors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shape mismatch: {0}")]
pub struct ShapeError(pub String);

/// A dense row-major 4-D tensor (last index fastest).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tensor4<T> {
    dims: [usize; 4],
    data: Vec<T>,
}

impl<T: Copy + Default> Tensor4<T> {
    /// A tensor of `dims` filled with `T::default()` (zero).
    pub fn zeros(dims: [usize; 4]) -> Self {
        Self {
            dims,
            data: vec![T::default(); dims.iter().product()],
        }
    }

    /// A tensor of `dims` holding `data` (row-major).
    pub fn from_vec(dims: [usize; 4], data: Vec<T>) -> Result<Self, ShapeError> {
        let want: usize = dims.iter().product();
        if data.len() != want {
            return Err(ShapeError(format!(
                "{} elements for dims {dims:?} ({want} expected)",
                data.len()
            )));
        }
        Ok(Self { dims, data })
    }

    /// A tensor of `dims` whose element at `[a, b, c, d]` is `f([a, b, c, d])`.
    pub fn from_fn(dims: [usize; 4], mut f: impl FnMut([usize; 4]) -> T) -> Self {
        let mut data = Vec::with_capacity(dims.iter().product());
        for a in 0..dims[0] {
            for b in 0..dims[1] {
                for c in 0..dims[2] {
                    for d in 0..dims[3] {
                        data.push(f([a, b, c, d]));
                    }
                }
            }
        }
        Self { dims, data }
    }

    /// The element-wise image under `f`.
    pub fn map<U: Copy + Default>(&self, f: impl FnMut(T) -> U) -> Tensor4<U> {
        Tensor4 {
            dims: self.dims,
            data: self.data.iter().copied().map(f).collect(),
        }
    }
}

impl<T> Tensor4<T> {
    /// The four dimensions.
    pub fn dims(&self) -> [usize; 4] {
        self.dims
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when some dimension is 0.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The `[i0, i1, i2, i3]` index of the element at row-major position `flat`.
    pub fn index_of(&self, flat: usize) -> [usize; 4] {
        let [_, d1, d2, d3] = self.dims;
        let (d3, d2, d1) = (d3.max(1), d2.max(1), d1.max(1));
        [
            flat / (d1 * d2 * d3),
            flat / (d2 * d3) % d1,
            flat / d3 % d2,
            flat % d3,
        ]
    }

    /// The elements, row-major.
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// The elements, row-major, mutable.
    pub fn data_mut(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// The elements, row-major, by value.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// Row-major offset of `[a, b, c, d]` (not bounds-checked per dimension).
    pub fn offset(&self, i: [usize; 4]) -> usize {
        let d = self.dims;
        ((i[0] * d[1] + i[1]) * d[2] + i[2]) * d[3] + i[3]
    }
}

impl<T> Index<[usize; 4]> for Tensor4<T> {
    type Output = T;
    fn index(&self, i: [usize; 4]) -> &T {
        &self.data[self.offset(i)]
    }
}

impl<T> IndexMut<[usize; 4]> for Tensor4<T> {
    fn index_mut(&mut self, i: [usize; 4]) -> &mut T {
        let o = self.offset(i);
        &mut self.data[o]
    }
}
