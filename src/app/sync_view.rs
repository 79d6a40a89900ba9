//! Views without an async copy of their hydration, to keep the wasm small.
//!
//! Every `AnyView` (an `.into_any()`, a component's `children` or `fallback`, a route's
//! view) keeps a pointer to an async version of its view's hydration, which tachys uses
//! for lazily loaded routes. podterm's pages are lazy routes, but nothing inside a page is
//! loaded lazily, so that version only has to run the synchronous one; as tachys writes it,
//! it is compiled into the wasm for the whole view tree behind the pointer, and is several
//! times the size of the synchronous one. A view wrapped in [`SyncView`] has tachys's
//! default async hydration, which runs the synchronous one: wrap every view that becomes an
//! `AnyView`.

use leptos::tachys::html::attribute::Attribute;
use leptos::tachys::html::attribute::any_attribute::AnyAttribute;
use leptos::tachys::hydration::Cursor;
use leptos::tachys::ssr::StreamBuilder;
use leptos::tachys::view::add_attr::AddAnyAttr;
use leptos::tachys::view::{Position, PositionState, Render, RenderHtml};

/// `view`, rendered and hydrated as is, with the default (synchronous) async hydration.
pub struct SyncView<V>(V);

pub fn sync_view<V: RenderHtml>(view: V) -> SyncView<V> {
    SyncView(view)
}

impl<V: Render> Render for SyncView<V> {
    type State = V::State;

    fn build(self) -> Self::State {
        self.0.build()
    }

    fn rebuild(self, state: &mut Self::State) {
        self.0.rebuild(state)
    }
}

impl<V: AddAnyAttr> AddAnyAttr for SyncView<V> {
    type Output<A: Attribute> = SyncView<V::Output<A>>;

    fn add_any_attr<A: Attribute>(self, attr: A) -> Self::Output<A> {
        SyncView(self.0.add_any_attr(attr))
    }
}

impl<V: RenderHtml> RenderHtml for SyncView<V> {
    type AsyncOutput = SyncView<V::AsyncOutput>;
    type Owned = SyncView<V::Owned>;

    const MIN_LENGTH: usize = V::MIN_LENGTH;
    const EXISTS: bool = V::EXISTS;

    fn dry_resolve(&mut self) {
        self.0.dry_resolve()
    }

    async fn resolve(self) -> Self::AsyncOutput {
        SyncView(self.0.resolve().await)
    }

    fn html_len(&self) -> usize {
        self.0.html_len()
    }

    fn to_html_with_buf(
        self,
        buf: &mut String,
        position: &mut Position,
        escape: bool,
        mark_branches: bool,
        extra_attrs: Vec<AnyAttribute>,
    ) {
        self.0
            .to_html_with_buf(buf, position, escape, mark_branches, extra_attrs)
    }

    fn to_html_async_with_buf<const OUT_OF_ORDER: bool>(
        self,
        buf: &mut StreamBuilder,
        position: &mut Position,
        escape: bool,
        mark_branches: bool,
        extra_attrs: Vec<AnyAttribute>,
    ) {
        self.0.to_html_async_with_buf::<OUT_OF_ORDER>(
            buf,
            position,
            escape,
            mark_branches,
            extra_attrs,
        )
    }

    fn hydrate<const FROM_SERVER: bool>(
        self,
        cursor: &Cursor,
        position: &PositionState,
    ) -> Self::State {
        self.0.hydrate::<FROM_SERVER>(cursor, position)
    }

    // `hydrate_async` is left to its default: the point of this type.

    fn into_owned(self) -> Self::Owned {
        SyncView(self.0.into_owned())
    }
}
