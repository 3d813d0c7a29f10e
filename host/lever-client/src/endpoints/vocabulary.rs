//! Account vocabulary: stages, archive reasons, users, tags and sources.

use futures::stream::BoxStream;
use lever_model::{ArchiveReason, ArchiveReasonType, Operation, Stage, TextCount, User};

use super::id_key;
use crate::pagination::paginate;
use crate::query::archive_reason_pairs;
use crate::transport::Body;
use crate::{LeverClient, LeverError, UserQuery};

/// Tags and sources have no ids; their text is their identity.
fn text_key(item: &TextCount) -> String {
    item.text.clone()
}

impl LeverClient {
    /// `GET /stages`.
    pub fn stages(&self) -> BoxStream<'static, Result<Stage, LeverError>> {
        paginate(
            self.inner.clone(),
            Operation::ListStages,
            vec![],
            vec![],
            id_key,
        )
    }

    /// `GET /stages/:stage` (built-in stages have slug ids such as `lead-new`).
    pub async fn stage(&self, id: &str) -> Result<Stage, LeverError> {
        self.inner
            .call(Operation::GetStage, &[id], vec![], Body::Empty)
            .await
    }

    /// `GET /archive_reasons[?type=hired|non-hired]`.
    pub fn archive_reasons(
        &self,
        kind: Option<ArchiveReasonType>,
    ) -> BoxStream<'static, Result<ArchiveReason, LeverError>> {
        paginate(
            self.inner.clone(),
            Operation::ListArchiveReasons,
            vec![],
            archive_reason_pairs(kind),
            id_key,
        )
    }

    /// `GET /archive_reasons/:archive_reason`.
    pub async fn archive_reason(&self, id: &str) -> Result<ArchiveReason, LeverError> {
        self.inner
            .call(Operation::GetArchiveReason, &[id], vec![], Body::Empty)
            .await
    }

    /// `GET /users` (active users unless `include_deactivated`).
    pub fn users(&self, query: UserQuery) -> BoxStream<'static, Result<User, LeverError>> {
        paginate(
            self.inner.clone(),
            Operation::ListUsers,
            vec![],
            query.to_pairs(),
            id_key,
        )
    }

    /// `GET /users/:user`.
    pub async fn user(&self, id: &str) -> Result<User, LeverError> {
        self.inner
            .call(Operation::GetUser, &[id], vec![], Body::Empty)
            .await
    }

    /// `GET /tags`: every tag with its usage count.
    pub fn tags(&self) -> BoxStream<'static, Result<TextCount, LeverError>> {
        paginate(
            self.inner.clone(),
            Operation::ListTags,
            vec![],
            vec![],
            text_key,
        )
    }

    /// `GET /sources`: every source with its usage count.
    pub fn sources(&self) -> BoxStream<'static, Result<TextCount, LeverError>> {
        paginate(
            self.inner.clone(),
            Operation::ListSources,
            vec![],
            vec![],
            text_key,
        )
    }
}
