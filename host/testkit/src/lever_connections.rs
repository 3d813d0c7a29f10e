//! Connecting an installation to the sandbox the way a tenant does: its own API key, or
//! "Connect with Lever" (OAuth) through the sandbox's real consent page.

use fulcrum_service::connections::{self, oauth_apps, oauth_flow};
use lever_model::Permission;
use lever_sandbox::consent_client::{Decision, answer_consent};
use lever_sandbox::{KeySpec, OAuthApp};
use secrecy::SecretString;

use crate::{World, harness};

/// The OAuth app id the host registers for tests.
pub const TEST_OAUTH_APP: &str = "lever-sandbox";

impl World {
    /// Connects `installation` with an API key made for it alone: the permissions its plugin
    /// requests plus what the host needs on the connection. Returns the key.
    pub async fn connect_own_key(&self, tenant: &str, installation: &str) -> String {
        self.connect_own_key_with(tenant, installation, false).await
    }

    /// [`World::connect_own_key`], with the key's "Allow access to confidential data" as
    /// given (and said so to the host, as the admin would).
    pub async fn connect_own_key_with(
        &self,
        tenant: &str,
        installation: &str,
        confidential: bool,
    ) -> String {
        let plugin_id = self
            .store
            .get_installation(tenant, installation)
            .await
            .unwrap()
            .expect("the installation exists")
            .plugin;
        let plugin = self.host.runtime().active(&plugin_id).unwrap();
        let mut permissions: Vec<Permission> =
            plugin.requested_permissions().iter().copied().collect();
        permissions.extend(connections::host_permissions(&plugin));
        let mut spec = KeySpec::only(format!("{tenant}/{installation}"), permissions);
        spec.confidential = confidential;
        let key = self.sandbox.issue_api_key(spec);
        let (_, probe) = connections::connect_api_key(
            &self.host,
            &harness(),
            tenant,
            installation,
            &SecretString::from(key.clone()),
            confidential,
        )
        .await
        .unwrap();
        assert!(probe.missing.is_empty(), "{probe:?}");
        key
    }

    /// Connects `installation` with OAuth: registers an OAuth app in the sandbox and with the
    /// host for its plugin (the host's `public_url` must be its own address: see
    /// `Options::public_url_is_self`), starts the connect, accepts the consent as the
    /// sandbox's super admin and follows the callback. Returns the sandbox's app.
    pub async fn connect_oauth(&self, tenant: &str, installation: &str) -> OAuthApp {
        let plugin = self
            .store
            .get_installation(tenant, installation)
            .await
            .unwrap()
            .expect("the installation exists")
            .plugin;
        let app = OAuthApp::generate("Fulcrum (tests)", vec![self.url(oauth_flow::CALLBACK_PATH)]);
        self.sandbox.register_oauth_app(app.clone()).unwrap();
        oauth_apps::register(
            &self.host,
            &harness(),
            oauth_apps::NewApp {
                id: TEST_OAUTH_APP.into(),
                name: "Fulcrum (tests)".into(),
                client_id: app.client_id.clone(),
                client_secret: SecretString::from(app.client_secret.clone()),
                authorize_url: Some(self.sandbox.authorize_url()),
                token_url: Some(self.sandbox.token_url()),
                audience: Some(self.sandbox.oauth_audience()),
            },
        )
        .await
        .unwrap();
        oauth_apps::set_plugin_app(&self.host, &harness(), &plugin, Some(TEST_OAUTH_APP))
            .await
            .unwrap();
        let started = oauth_flow::start(&self.host, &harness(), tenant, installation)
            .await
            .unwrap();
        let callback = answer_consent(
            &started.authorize_url,
            &self.sandbox.default_user_id(),
            Decision::Accept,
        )
        .await
        .unwrap();
        let page = self.http.get(callback).send().await.unwrap();
        assert_eq!(page.status(), 200, "{}", page.text().await.unwrap());
        let info = connections::info(&self.host, tenant, installation)
            .await
            .unwrap();
        assert_eq!(
            (info.kind.as_str(), info.status.as_str()),
            ("oauth", "connected")
        );
        app
    }
}
