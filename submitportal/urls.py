from django.urls import path

from submitportal.views import (
    bulk,
    drafts,
    edit,
    extra_file_uploads,
    pages,
    released,
    review,
    revise_form,
    signin,
    submission,
)

# Django takes it from the root URLconf: a URLconf that replaces this one re-exports it (tests/error_urls.py).
handler500 = pages.server_error

urlpatterns = [
    path("", pages.home, name="home"),
    path("about/", pages.about, name="about"),
    path("healthz", pages.healthz, name="healthz"),
    path("auth/signin", signin.start, name="signin"),
    path("auth/callback", signin.callback, name="signin-callback"),
    path("auth/signout", signin.signout, name="signout"),
    path("drafts/", drafts.draft_list, name="drafts"),
    path("drafts/<uuid:draft_id>/save", drafts.save, name="draft-save"),
    path("drafts/<uuid:draft_id>/delete", drafts.delete, name="draft-delete"),
    path("drafts/<uuid:draft_id>/files/<str:category>/", extra_file_uploads.add_files, name="files-add"),
    path("drafts/<uuid:draft_id>/files/prepare", extra_file_uploads.prepare, name="files-prepare"),
    path("drafts/<uuid:draft_id>/files/done", extra_file_uploads.files_done, name="files-done"),
    path("drafts/<uuid:draft_id>/file/<int:file_pk>/", extra_file_uploads.file_row, name="file-row"),
    path("drafts/<uuid:draft_id>/file/<int:file_pk>/done", extra_file_uploads.file_done, name="file-done"),
    path("drafts/<uuid:draft_id>/file/<int:file_pk>/failed", extra_file_uploads.file_failed, name="file-failed"),
    path("drafts/<uuid:draft_id>/file/<int:file_pk>/retry", extra_file_uploads.file_retry, name="file-retry"),
    path("drafts/<uuid:draft_id>/file/<int:file_pk>/remove", extra_file_uploads.file_remove, name="file-remove"),
    path("<slug:organism>/submission/review/", review.review_chosen, name="review"),
    path("<slug:organism>/submission/<int:group_id>/review/", review.review_group, name="review-group"),
    path("<slug:organism>/submission/<int:group_id>/review/action", review.review_action, name="review-action"),
    path("<slug:organism>/submission/released/", released.released_chosen, name="released-chosen"),
    path("<slug:organism>/submission/<int:group_id>/released/", released.released, name="released"),
    path("<slug:organism>/submission/<int:group_id>/released/revoke", released.revoke, name="released-revoke"),
    path("<slug:organism>/submission/revocation/<uuid:draft_id>/", review.result, name="revocation-result"),
    path("<slug:organism>/submission/<int:group_id>/released/download", released.download, name="released-download"),
    path("<slug:organism>/submission/", submission.organism_submission, name="organism-submission"),
    path("<slug:organism>/submission/bulk/", bulk.new_bulk, name="bulk-new"),
    path("<slug:organism>/submission/bulk/<uuid:draft_id>/", bulk.bulk_form, name="bulk-form"),
    path("<slug:organism>/submission/revise/", bulk.new_bulk_revision, name="revise"),
    path("<slug:organism>/submission/revise/form/", revise_form.revise_form, name="revise-form"),
    path("<slug:organism>/submission/bulk/<uuid:draft_id>/result", review.result, name="bulk-result"),
    path(
        "<slug:organism>/submission/bulk/<uuid:draft_id>/accessions.tsv", bulk.bulk_result_tsv, name="bulk-result-tsv"
    ),
    path("<slug:organism>/submission/template.<str:file_type>", bulk.metadata_template, name="metadata-template"),
    path("drafts/<uuid:draft_id>/bulk/<str:kind>", bulk.bulk_file, name="bulk-file"),
    path("drafts/<uuid:draft_id>/bulk/<str:kind>/discard", bulk.bulk_discard, name="bulk-discard"),
    path("<slug:organism>/submission/form/", submission.new_entry, name="entry-new"),
    path("<slug:organism>/submission/form/<uuid:draft_id>/", submission.entry_form, name="entry-form"),
    path("drafts/<uuid:draft_id>/group", submission.draft_group, name="draft-group"),
    path("<slug:organism>/submission/form/<uuid:draft_id>/result", review.result, name="entry-result"),
    path("<slug:organism>/submission/edit/<str:accession>/<int:version>/", edit.edit_entry, name="entry-edit"),
]
