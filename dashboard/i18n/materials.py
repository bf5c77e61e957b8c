"""Strings of case material: uploads, the list of a case's files, previews and downloads."""
from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # Refusals of an upload: the content decides, not the name.
    "materials.error.not_photo": (
        "文件内容不是照片：此类资料只接受 {accepted} 格式的照片，所选文件「{filename}」的实际内容不是其中之一"
        "（只改扩展名不会改变文件内容）。请选择相机或手机拍摄的原始照片后重新上传。",
        "The file is not a photo: this material takes {accepted} photos only, and the content of "
        "\"{filename}\" is none of them (renaming a file does not change what it is). Choose the original "
        "photo from the camera or phone."),
    "materials.error.not_document": (
        "文件内容不是可接受的文档：此类资料只接受 {accepted} 文件，所选文件「{filename}」的实际内容不是其中之一"
        "（只改扩展名不会改变文件内容）。请上传 PDF 扫描件，或 Word、Excel 文件。",
        "The file is not an accepted document: this material takes {accepted} files only, and the content "
        "of \"{filename}\" is none of them (renaming a file does not change what it is). Upload a scanned "
        "PDF, or a Word or Excel file."),
    "materials.error.missing": (
        "文件「{filename}」在资料存储中找不到，无法打开。请联系系统管理员从备份恢复资料目录。",
        "\"{filename}\" is missing from the evidence store and cannot be opened. Ask the administrator to "
        "restore the evidence folder from the backup."),
    "materials.error.corrupted": (
        "文件「{filename}」校验失败：内容与上传时记录的 SHA-256 校验值不一致，可能已损坏或被改动，"
        "不能作为证据打开或下载。请联系系统管理员从备份恢复。",
        "\"{filename}\" failed its check: its content no longer matches the SHA-256 recorded at upload. It "
        "may be damaged or altered and cannot be opened or downloaded as evidence. Ask the administrator "
        "to restore it from the backup."),
    "materials.error.field": ("{field}：{message}", "{field}: {message}"),
    "materials.field.kind": ("资料类型", "Material"),
    "materials.field.filename": ("文件名", "File name"),
    "materials.field.content": ("文件", "File"),
    "materials.field.on_behalf_of_person_id": ("代传对象", "On behalf of"),
    "materials.field.case": ("案件", "Case"),
    "materials.field.file": ("文件", "File"),
    # The upload form.
    "materials.upload.title": ("上传资料", "Upload material"),
    "materials.upload.kind": ("资料类型", "Material"),
    "materials.upload.accepts": ("{kind}只接受：{accepted}（按文件内容识别，不看扩展名）",
                                 "{kind} takes: {accepted} (read from the content, not the name)"),
    "materials.upload.file": ("文件（不超过 {mb} MB）", "File (up to {mb} MB)"),
    "materials.upload.too_large_hint": ("文件超过 {mb} MB 上限，请压缩后再上传。",
                                        "The file exceeds the {mb} MB limit: compress it first."),
    "materials.upload.on_behalf": ("代第一责任人上传", "On behalf of the first responsible"),
    "materials.upload.on_behalf_none": ("— 本人的资料 —", "— my own material —"),
    "materials.upload.submit": ("上传", "Upload"),
    "materials.upload.need_file": ("文件：请先选择要上传的文件。", "File: choose a file to upload first."),
    "materials.upload.done": ("已上传{kind}「{filename}」（{size}）{behalf}，上传时间 {at}{captured}。{met}",
                              "Uploaded {kind} \"{filename}\" ({size}){behalf} at {at}{captured}. {met}"),
    "materials.upload.done_behalf": ("，代 {name} 上传", " on behalf of {name}"),
    "materials.upload.done_captured": ("，照片拍摄于 {at}", "; photo taken {at}"),
    "materials.upload.done_met": ("完成时限：{clocks}。", "Deadlines met: {clocks}."),
    "materials.upload.met_on_time": ("{clock}（按时）", "{clock} (on time)"),
    "materials.upload.met_late": ("{clock}（逾期）", "{clock} (late)"),
    "materials.upload.refused": ("有 {n} 处需要修改，资料未上传：", "{n} thing(s) to fix; the material was not uploaded:"),
    # The list of a case's material.
    "materials.title": ("案件资料", "Case material"),
    "materials.count": ("共 {n} 份", "{n} file(s)"),
    "materials.empty": ("本案尚无上传资料。", "No material has been uploaded for this case."),
    "materials.col.kind": ("资料类型", "Material"),
    "materials.col.filename": ("文件名", "File name"),
    "materials.col.format": ("格式", "Format"),
    "materials.col.size": ("大小", "Size"),
    "materials.col.uploaded_by": ("上传人", "Uploaded by"),
    "materials.col.on_behalf": ("代谁上传", "For"),
    "materials.col.uploaded_at": ("上传时间", "Uploaded"),
    "materials.col.captured_at": ("拍摄时间", "Taken"),
    "materials.format.unknown": ("未识别（旧资料）", "unknown (older material)"),
    "materials.view": ("查看文件", "Open a file"),
    "materials.view_placeholder": ("选择要查看或下载的文件", "Choose a file to view or download"),
    "materials.view_option": ("{kind} · {filename} · {at}", "{kind} · {filename} · {at}"),
    "materials.preview_caption": ("{kind}：{filename}（拍摄 {captured}；上传 {uploaded}）",
                                  "{kind}: {filename} (taken {captured}; uploaded {uploaded})"),
    "materials.no_capture_time": ("照片无拍摄时间", "no capture time in the photo"),
    "materials.no_preview": ("此文件无法预览，请下载后查看。", "This file has no preview: download it to read it."),
    "materials.download": ("下载原文件", "Download the original"),
    "materials.verified": ("已核对：内容与上传时的 SHA-256 校验值一致（{digest}…）。",
                           "Checked: the content matches the SHA-256 recorded at upload ({digest}…)."),
    "materials.unverified": ("旧资料：上传时未记录校验值。", "Older material: no checksum was recorded at upload."),
    "materials.uploader_line": ("{who} 上传{behalf}，{at}", "uploaded by {who}{behalf}, {at}"),
}
