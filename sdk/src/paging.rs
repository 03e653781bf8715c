//! One item at a time over host resources that hand out pages (`get-next`
//! returning `none`, or an empty page, at the end).

/// A host resource that returns its results a page at a time.
pub(crate) trait PageSource {
    type Item;
    fn next_page(&mut self) -> Option<Vec<Self::Item>>;
}

/// The items of a [`PageSource`], fetching the next page only when the
/// current one is used up.
#[derive(Debug)]
pub(crate) struct Pages<S: PageSource> {
    source: S,
    page: std::vec::IntoIter<S::Item>,
    done: bool,
}

impl<S: PageSource> Pages<S> {
    pub(crate) fn new(source: S) -> Self {
        Pages { source, page: Vec::new().into_iter(), done: false }
    }
}

impl<S: PageSource> Iterator for Pages<S> {
    type Item = S::Item;

    fn next(&mut self) -> Option<S::Item> {
        loop {
            if let Some(item) = self.page.next() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            match self.source.next_page() {
                Some(page) if !page.is_empty() => self.page = page.into_iter(),
                _ => self.done = true,
            }
        }
    }
}
