//! Files, resumes, applications and uploads of an opportunity.

use bytes::Bytes;
use futures::stream::BoxStream;
use lever_model::{Application, LeverFile, Operation, Resume, Upload};

use super::id_key;
use crate::multipart::file_form;
use crate::pagination::paginate;
use crate::query::QueryPairs;
use crate::transport::{Body, add_perform_as};
use crate::{FileUpload, LeverClient, LeverError};

impl LeverClient {
    /// `GET /opportunities/:opportunity/files`.
    pub fn files(&self, opportunity_id: &str) -> BoxStream<'static, Result<LeverFile, LeverError>> {
        paginate(
            self.inner.clone(),
            Operation::ListFiles,
            vec![opportunity_id.to_owned()],
            vec![],
            id_key,
        )
    }

    /// `GET /opportunities/:opportunity/files/:file`.
    pub async fn file(&self, opportunity_id: &str, file_id: &str) -> Result<LeverFile, LeverError> {
        self.inner
            .call(
                Operation::GetFile,
                &[opportunity_id, file_id],
                vec![],
                Body::Empty,
            )
            .await
    }

    /// `POST /opportunities/:opportunity/files?perform_as=`, multipart field `file` (Lever's
    /// limit is 30 MB). Not idempotent.
    pub async fn upload_file(
        &self,
        opportunity_id: &str,
        file: FileUpload,
        perform_as: &str,
    ) -> Result<LeverFile, LeverError> {
        let op = Operation::UploadFile;
        let mut q = QueryPairs::new();
        add_perform_as(op, Some(perform_as), &mut q);
        self.inner
            .call(op, &[opportunity_id], q, Body::Form(file_form(file)))
            .await
    }

    /// `GET /opportunities/:opportunity/files/:file/download`: the raw bytes. Lever answers
    /// 422 ([`LeverError::Invalid`]) for a file it could not process.
    pub async fn download_file(
        &self,
        opportunity_id: &str,
        file_id: &str,
    ) -> Result<Bytes, LeverError> {
        self.inner
            .send(
                Operation::DownloadFile,
                &[opportunity_id, file_id],
                vec![],
                Body::Empty,
            )
            .await
    }

    /// `DELETE /opportunities/:opportunity/files/:file?perform_as=`.
    pub async fn delete_file(
        &self,
        opportunity_id: &str,
        file_id: &str,
        perform_as: &str,
    ) -> Result<(), LeverError> {
        let op = Operation::DeleteFile;
        let mut q = QueryPairs::new();
        add_perform_as(op, Some(perform_as), &mut q);
        self.inner
            .send(op, &[opportunity_id, file_id], q, Body::Empty)
            .await
            .map(drop)
    }

    /// `GET /opportunities/:opportunity/resumes` (Lever may return them unpaginated).
    pub fn resumes(&self, opportunity_id: &str) -> BoxStream<'static, Result<Resume, LeverError>> {
        paginate(
            self.inner.clone(),
            Operation::ListResumes,
            vec![opportunity_id.to_owned()],
            vec![],
            id_key,
        )
    }

    /// `GET /opportunities/:opportunity/resumes/:resume`.
    pub async fn resume(
        &self,
        opportunity_id: &str,
        resume_id: &str,
    ) -> Result<Resume, LeverError> {
        self.inner
            .call(
                Operation::GetResume,
                &[opportunity_id, resume_id],
                vec![],
                Body::Empty,
            )
            .await
    }

    /// `GET /opportunities/:opportunity/resumes/:resume/download`: raw bytes; 422 for an
    /// unprocessable resume.
    pub async fn download_resume(
        &self,
        opportunity_id: &str,
        resume_id: &str,
    ) -> Result<Bytes, LeverError> {
        self.inner
            .send(
                Operation::DownloadResume,
                &[opportunity_id, resume_id],
                vec![],
                Body::Empty,
            )
            .await
    }

    /// `GET /opportunities/:opportunity/applications` (deprecated by Lever in favour of
    /// `expand=applications`, still served).
    pub fn applications(
        &self,
        opportunity_id: &str,
    ) -> BoxStream<'static, Result<Application, LeverError>> {
        paginate(
            self.inner.clone(),
            Operation::ListApplications,
            vec![opportunity_id.to_owned()],
            vec![],
            id_key,
        )
    }

    /// `GET /opportunities/:opportunity/applications/:application`.
    pub async fn application(
        &self,
        opportunity_id: &str,
        application_id: &str,
    ) -> Result<Application, LeverError> {
        self.inner
            .call(
                Operation::GetApplication,
                &[opportunity_id, application_id],
                vec![],
                Body::Empty,
            )
            .await
    }

    /// `POST /uploads`, multipart field `file`: a file for an application answer, usable by
    /// its `uri` for 24 hours. Not idempotent.
    pub async fn create_upload(&self, file: FileUpload) -> Result<Upload, LeverError> {
        self.inner
            .call(
                Operation::CreateUpload,
                &[],
                vec![],
                Body::Form(file_form(file)),
            )
            .await
    }
}
