//! Opportunity files and résumés (metadata and raw downloads) and `POST /uploads`.

use super::opportunities::{new_file, visible};
use super::{
    Ctx, UploadedFile, check_file_size, created, download, no_content, ok, page, read_multipart,
};
use crate::db::Db;
use crate::error::ApiError;
use crate::pagination::Pager;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::response::Response;
use lever_model::timestamp::now_millis;
use lever_model::{FileStatus, LeverFile, Resume, Upload};

/// The single `file` field of an upload form.
async fn file_field(req: Request) -> Result<UploadedFile, ApiError> {
    let mp = Multipart::from_request(req, &())
        .await
        .map_err(|r| ApiError::for_status(r.status(), r.body_text()))?;
    let fields = read_multipart(mp).await?;
    let (_, name, bytes) = fields
        .into_iter()
        .find(|(n, _, _)| n == "file")
        .ok_or_else(|| ApiError::bad_request("multipart field \"file\" is required"))?;
    let f = UploadedFile {
        name: name.unwrap_or_else(|| "file".into()),
        bytes,
    };
    check_file_size(&f)?;
    Ok(f)
}

pub async fn list(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let vis = ctx.read_visibility()?;
    let range = ctx.query.range("uploaded_at_")?;
    let pager = Pager::new(&ctx.query, &format!("/opportunities/{id}/files"), &s.tokens)?;
    let db = s.db.lock();
    visible(&db, vis, &id)?;
    let mut files: Vec<&LeverFile> = db
        .files(&id)
        .iter()
        .filter(|f| range.contains(f.uploaded_at))
        .collect();
    files.sort_by(|a, b| (a.uploaded_at, &a.id).cmp(&(b.uploaded_at, &b.id)));
    Ok(page(pager.page(files.into_iter().map(|f| {
        (f.uploaded_at.unwrap_or(0), f.id.as_str(), f.clone())
    }))))
}

pub async fn get(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let vis = ctx.read_visibility()?;
    let db = s.db.lock();
    visible(&db, vis, &id)?;
    let f = find_file(&db, &id, &file)?;
    Ok(ok(f))
}

pub async fn download_file(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let vis = ctx.read_visibility()?;
    let db = s.db.lock();
    visible(&db, vis, &id)?;
    let f = find_file(&db, &id, &file)?;
    if f.status == Some(FileStatus::Error) {
        return Err(ApiError::unprocessable(format!(
            "File {file} could not be processed and cannot be downloaded"
        )));
    }
    let bytes = db
        .blobs
        .get(&f.id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("files", &file))?;
    Ok(download(&f.name, &f.ext, bytes))
}

pub async fn upload(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    {
        // Check before reading a possibly large body.
        let db = s.db.lock();
        visible(&db, ctx.write_visibility(), &id)?;
    }
    let f = file_field(req).await?;
    let now = now_millis();
    let mut db = s.db.lock();
    visible(&db, ctx.write_visibility(), &id)?;
    let file = new_file(&db, &id, &f, now);
    db.blobs.insert(file.id.clone(), f.bytes);
    db.files.entry(id.clone()).or_default().push(file.clone());
    if let Some(o) = db.opportunities.get_mut(&id) {
        o.updated_at = Some(now);
    }
    Ok(created(file))
}

pub async fn delete(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let now = now_millis();
    let mut db = s.db.lock();
    visible(&db, ctx.write_visibility(), &id)?;
    let files = db.files.entry(id.clone()).or_default();
    let before = files.len();
    files.retain(|f| f.id != file);
    if files.len() == before {
        return Err(ApiError::not_found("files", &file));
    }
    db.blobs.remove(&file);
    if let Some(o) = db.opportunities.get_mut(&id) {
        o.updated_at = Some(now);
    }
    Ok(no_content())
}

pub async fn list_resumes(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let vis = ctx.read_visibility()?;
    let range = ctx.query.range("uploaded_at_")?;
    let pager = Pager::new(
        &ctx.query,
        &format!("/opportunities/{id}/resumes"),
        &s.tokens,
    )?;
    let db = s.db.lock();
    visible(&db, vis, &id)?;
    // Lever falls back to createdAt when a résumé has no upload date.
    let uploaded = |r: &Resume| {
        r.file
            .as_ref()
            .and_then(|f| f.uploaded_at)
            .unwrap_or(r.created_at)
    };
    let mut resumes: Vec<&Resume> = db
        .resumes(&id)
        .iter()
        .filter(|r| range.contains(Some(uploaded(r))))
        .collect();
    resumes.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(page(
        pager.page(
            resumes
                .into_iter()
                .map(|r| (r.created_at, r.id.as_str(), r.clone())),
        ),
    ))
}

pub async fn get_resume(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path((id, resume)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let vis = ctx.read_visibility()?;
    let db = s.db.lock();
    visible(&db, vis, &id)?;
    let r = find_resume(&db, &id, &resume)?;
    Ok(ok(r))
}

pub async fn download_resume(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path((id, resume)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let vis = ctx.read_visibility()?;
    let db = s.db.lock();
    visible(&db, vis, &id)?;
    let r = find_resume(&db, &id, &resume)?;
    let Some(file) = &r.file else {
        return Err(ApiError::unprocessable(format!(
            "Resume {resume} has no file to download"
        )));
    };
    if file.status == Some(FileStatus::Error) {
        return Err(ApiError::unprocessable(format!(
            "Resume {resume} could not be processed and cannot be downloaded"
        )));
    }
    let bytes = db
        .blobs
        .get(&r.id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("resumes", &resume))?;
    Ok(download(&file.name, &file.ext, bytes))
}

/// `POST /uploads`: a file for a later `POST /postings/:id/apply`, usable for 24 hours.
pub async fn create_upload(
    State(s): State<Shared>,
    Extension(_ctx): Extension<Ctx>,
    req: Request,
) -> Result<Response, ApiError> {
    let f = file_field(req).await?;
    let now = now_millis();
    let id = uuid::Uuid::new_v4().to_string();
    let mut db = s.db.lock();
    let encoded: String = url::form_urlencoded::byte_serialize(f.name.as_bytes()).collect();
    let upload = Upload {
        expires_at: now + 24 * 3_600_000,
        filename: f.name.clone(),
        uri: format!("{}/v1/uploads/{id}-{encoded}", db.base_url),
        id: id.clone(),
        size: f.bytes.len() as u64,
    };
    db.uploads.retain(|_, u| u.upload.expires_at > now);
    db.uploads.insert(
        id,
        crate::db::StoredUpload {
            upload: upload.clone(),
            bytes: f.bytes,
        },
    );
    Ok(created(upload))
}

fn find_file<'a>(db: &'a Db, opportunity: &str, file: &str) -> Result<&'a LeverFile, ApiError> {
    db.files(opportunity)
        .iter()
        .find(|f| f.id == file)
        .ok_or_else(|| ApiError::not_found("files", file))
}

fn find_resume<'a>(db: &'a Db, opportunity: &str, resume: &str) -> Result<&'a Resume, ApiError> {
    db.resumes(opportunity)
        .iter()
        .find(|r| r.id == resume)
        .ok_or_else(|| ApiError::not_found("resumes", resume))
}
