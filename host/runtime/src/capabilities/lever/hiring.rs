//! `impl lever_hiring::Host`: interviews, panels, feedback, offers and referrals (reads of
//! an opportunity), requisitions and requisition fields. Same path as `lever`: the policy
//! check, the confidentiality check of a requisition listing, then one journaled read or
//! write.

use lever_model as lm;
use serde_json::{Value, json};

use super::write::LeverWrite;
use super::{LeverFunction, all, convert, lever_error, read_request};
use crate::bindings::PluginError;
use crate::bindings::fulcrum::connector::lever_hiring as hwit;
use crate::capabilities::HostCalls;

/// The journaled request of a read of one item of an opportunity.
fn item(opportunity_id: &str, id: &str) -> Value {
    json!({ "opportunity_id": opportunity_id, "id": id })
}

impl hwit::Host for HostCalls {
    async fn list_interviews(
        &mut self,
        opportunity_id: String,
    ) -> Result<Vec<hwit::Interview>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListInterviews)?;
        let read = async {
            all(lever.client.interviews(&opportunity_id))
                .await
                .map(|x| x.iter().map(convert::interview).collect::<Vec<_>>())
        };
        let request = json!({ "opportunity_id": opportunity_id });
        self.lever_read(call, request, read).await
    }

    async fn get_interview(
        &mut self,
        opportunity_id: String,
        interview_id: String,
    ) -> Result<hwit::Interview, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::GetInterview)?;
        let read = async {
            lever
                .client
                .interview(&opportunity_id, &interview_id)
                .await
                .map(|x| convert::interview(&x))
                .map_err(lever_error)
        };
        let request = item(&opportunity_id, &interview_id);
        self.lever_read(call, request, read).await
    }

    async fn list_panels(
        &mut self,
        opportunity_id: String,
    ) -> Result<Vec<hwit::Panel>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListPanels)?;
        let read = async {
            all(lever.client.panels(&opportunity_id))
                .await
                .map(|x| x.iter().map(convert::panel).collect::<Vec<_>>())
        };
        let request = json!({ "opportunity_id": opportunity_id });
        self.lever_read(call, request, read).await
    }

    async fn get_panel(
        &mut self,
        opportunity_id: String,
        panel_id: String,
    ) -> Result<hwit::Panel, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::GetPanel)?;
        let read = async {
            lever
                .client
                .panel(&opportunity_id, &panel_id)
                .await
                .map(|x| convert::panel(&x))
                .map_err(lever_error)
        };
        let request = item(&opportunity_id, &panel_id);
        self.lever_read(call, request, read).await
    }

    async fn list_feedback(
        &mut self,
        opportunity_id: String,
    ) -> Result<Vec<hwit::Feedback>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListFeedback)?;
        let read = async {
            all(lever.client.feedback(&opportunity_id))
                .await
                .map(|x| x.iter().map(convert::feedback).collect::<Vec<_>>())
        };
        let request = json!({ "opportunity_id": opportunity_id });
        self.lever_read(call, request, read).await
    }

    async fn get_feedback(
        &mut self,
        opportunity_id: String,
        feedback_id: String,
    ) -> Result<hwit::Feedback, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::GetFeedback)?;
        let read = async {
            lever
                .client
                .feedback_form(&opportunity_id, &feedback_id)
                .await
                .map(|x| convert::feedback(&x))
                .map_err(lever_error)
        };
        let request = item(&opportunity_id, &feedback_id);
        self.lever_read(call, request, read).await
    }

    async fn list_offers(
        &mut self,
        opportunity_id: String,
    ) -> Result<Vec<hwit::Offer>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListOffers)?;
        let read = async {
            all(lever.client.offers(&opportunity_id, false))
                .await
                .map(|x| x.iter().map(convert::offer).collect::<Vec<_>>())
        };
        let request = json!({ "opportunity_id": opportunity_id });
        self.lever_read(call, request, read).await
    }

    async fn list_referrals(
        &mut self,
        opportunity_id: String,
    ) -> Result<Vec<hwit::Referral>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListReferrals)?;
        let read = async {
            all(lever.client.referrals(&opportunity_id))
                .await
                .map(|x| x.iter().map(convert::referral).collect::<Vec<_>>())
        };
        let request = json!({ "opportunity_id": opportunity_id });
        self.lever_read(call, request, read).await
    }

    async fn get_referral(
        &mut self,
        opportunity_id: String,
        referral_id: String,
    ) -> Result<hwit::Referral, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::GetReferral)?;
        let read = async {
            lever
                .client
                .referral(&opportunity_id, &referral_id)
                .await
                .map(|x| convert::referral(&x))
                .map_err(lever_error)
        };
        let request = item(&opportunity_id, &referral_id);
        self.lever_read(call, request, read).await
    }

    async fn list_requisitions(
        &mut self,
        filter: hwit::RequisitionFilter,
    ) -> Result<Vec<hwit::Requisition>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListRequisitions)?;
        let call = self.confidential_access(call, &lever, filter.confidentiality)?;
        let query = convert::requisition_query(&filter);
        let read = async {
            all(lever.client.requisitions(query))
                .await
                .map(|x| x.iter().map(convert::requisition).collect::<Vec<_>>())
        };
        let request = read_request(&filter);
        self.lever_read(call, request, read).await
    }

    async fn get_requisition(&mut self, id: String) -> Result<hwit::Requisition, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::GetRequisition)?;
        let read = async {
            lever
                .client
                .requisition(&id)
                .await
                .map(|x| convert::requisition(&x))
                .map_err(lever_error)
        };
        self.lever_read(call, json!({ "id": id }), read).await
    }

    async fn create_requisition(
        &mut self,
        requisition: hwit::RequisitionInput,
    ) -> Result<hwit::Requisition, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::CreateRequisition)?;
        let body = match convert::requisition_body(&requisition) {
            Ok(body) => body,
            Err(e) => return self.finish(call.host, Err(e)),
        };
        let write = LeverWrite::create_requisition(body);
        let created: lm::Requisition = self.lever_write(call, &lever, write).await?;
        Ok(convert::requisition(&created))
    }

    async fn update_requisition(
        &mut self,
        id: String,
        requisition: hwit::RequisitionInput,
    ) -> Result<hwit::Requisition, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::UpdateRequisition)?;
        let body = match convert::requisition_body(&requisition) {
            Ok(body) => body,
            Err(e) => return self.finish(call.host, Err(e)),
        };
        let write = LeverWrite::update_requisition(id, body);
        let updated: lm::Requisition = self.lever_write(call, &lever, write).await?;
        Ok(convert::requisition(&updated))
    }

    async fn list_requisition_fields(
        &mut self,
    ) -> Result<Vec<hwit::RequisitionField>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListRequisitionFields)?;
        let read = async {
            all(lever.client.requisition_fields())
                .await
                .map(|x| x.iter().map(convert::requisition_field).collect::<Vec<_>>())
        };
        self.lever_read(call, Value::Null, read).await
    }

    async fn get_requisition_field(
        &mut self,
        id: String,
    ) -> Result<hwit::RequisitionField, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::GetRequisitionField)?;
        let read = async {
            lever
                .client
                .requisition_field(&id)
                .await
                .map(|x| convert::requisition_field(&x))
                .map_err(lever_error)
        };
        self.lever_read(call, json!({ "id": id }), read).await
    }

    async fn create_requisition_field(
        &mut self,
        field: hwit::RequisitionFieldInput,
    ) -> Result<hwit::RequisitionField, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::CreateRequisitionField)?;
        let body = match convert::requisition_field_body(&field) {
            Ok(body) => body,
            Err(e) => return self.finish(call.host, Err(e)),
        };
        let write = LeverWrite::create_requisition_field(body);
        let created: lm::RequisitionField = self.lever_write(call, &lever, write).await?;
        Ok(convert::requisition_field(&created))
    }

    async fn update_requisition_field(
        &mut self,
        id: String,
        field: hwit::RequisitionFieldInput,
    ) -> Result<hwit::RequisitionField, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::UpdateRequisitionField)?;
        let body = match convert::requisition_field_body(&field) {
            Ok(body) => body,
            Err(e) => return self.finish(call.host, Err(e)),
        };
        let write = LeverWrite::update_requisition_field(id, body);
        let updated: lm::RequisitionField = self.lever_write(call, &lever, write).await?;
        Ok(convert::requisition_field(&updated))
    }
}
