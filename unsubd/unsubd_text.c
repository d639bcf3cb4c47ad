/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_text.c - the words of the unsubscribe pages, per language
 *
 * SYNOPSIS
 *	#include "unsubd_text.h"
 *
 *	const char *const unsubd_text_langs[UNSUBD_NLANGS]
 *	const UNSUBD_TEXT *unsubd_text_get(int lang, enum unsubd_page_kind kind)
 *	const char *unsubd_text_button(int lang)
 *
 * DESCRIPTION
 *	One table row per language, in the order of unsubd_text_langs[]
 *	(English first: the fallback). Each page has a title (the browser
 *	tab), a heading, a message that names the sender's stream and the
 *	masked recipient where it matters, and a note. Adding a language is
 *	adding a row and its tag (and UNSUBD_NLANGS); unsubd_lang_pick()
 *	then offers it. Texts are UTF-8; French puts a no-break space before
 *	'?'.
 *
 * DIAGNOSTICS
 *	None.
 */
#include "unsubd_text.h"

const char *const unsubd_text_langs[UNSUBD_NLANGS] = {"en", "fr", "id", "de", "es"};

/* The words of one language. */
typedef struct unsubd_lang_text {
    UNSUBD_TEXT page[UNSUBD_PAGE_NKINDS];
    const char *button;
} UNSUBD_LANG_TEXT;

static const UNSUBD_LANG_TEXT unsubd_texts[UNSUBD_NLANGS] = {
    {   /* en */
        {{"Unsubscribe", "Unsubscribe from these emails?",
          "Press the button to stop mail from %{stream} to %{recipient}.",
          "Nothing changes until you press the button. If you came here by mistake, just close this page."},
         {"Unsubscribed", "You are unsubscribed",
          "%{recipient} will no longer receive mail from %{stream}.",
          "You can close this page."},
         {"Link not valid", "This link does not work",
          "This unsubscribe link is not valid or has expired. Use the link in a more recent message, "
          "or contact the sender.", ""},
         {"Please try again later", "Your request was not recorded",
          "The unsubscribe could not be recorded right now. Please try again in a few minutes.", ""}},
        "Unsubscribe",
    },
    {   /* fr */
        {{"Se désabonner", "Vous désabonner de ces e-mails\u00a0?",
          "Appuyez sur le bouton pour ne plus recevoir les messages de %{stream} à l’adresse %{recipient}.",
          "Rien ne change tant que vous n’avez pas appuyé sur le bouton. Si vous êtes arrivé ici par "
          "erreur, fermez simplement cette page."},
         {"Désabonnement confirmé", "Vous êtes désabonné",
          "%{recipient} ne recevra plus de messages de %{stream}.",
          "Vous pouvez fermer cette page."},
         {"Lien non valide", "Ce lien ne fonctionne pas",
          "Ce lien de désabonnement n’est pas valide ou a expiré. Utilisez le lien d’un message plus "
          "récent, ou contactez l’expéditeur.", ""},
         {"Réessayez plus tard", "Votre demande n’a pas été enregistrée",
          "Le désabonnement n’a pas pu être enregistré pour le moment. Veuillez réessayer dans "
          "quelques minutes.", ""}},
        "Me désabonner",
    },
    {   /* id */
        {{"Berhenti berlangganan", "Berhenti berlangganan email ini?",
          "Tekan tombol untuk berhenti menerima email dari %{stream} di %{recipient}.",
          "Tidak ada yang berubah sampai Anda menekan tombol. Jika Anda tiba di sini karena keliru, "
          "tutup saja halaman ini."},
         {"Berhasil berhenti berlangganan", "Anda telah berhenti berlangganan",
          "%{recipient} tidak akan lagi menerima email dari %{stream}.",
          "Anda dapat menutup halaman ini."},
         {"Tautan tidak valid", "Tautan ini tidak berfungsi",
          "Tautan berhenti berlangganan ini tidak valid atau sudah kedaluwarsa. Gunakan tautan dari "
          "pesan yang lebih baru, atau hubungi pengirim.", ""},
         {"Coba lagi nanti", "Permintaan Anda belum tercatat",
          "Permintaan berhenti berlangganan tidak dapat dicatat saat ini. Silakan coba lagi dalam "
          "beberapa menit.", ""}},
        "Berhenti berlangganan",
    },
    {   /* de */
        {{"Abmelden", "Von diesen E-Mails abmelden?",
          "Drücken Sie die Schaltfläche, um keine E-Mails mehr von %{stream} an %{recipient} zu erhalten.",
          "Solange Sie die Schaltfläche nicht drücken, ändert sich nichts. Wenn Sie versehentlich hier "
          "sind, schließen Sie diese Seite einfach."},
         {"Abgemeldet", "Sie sind abgemeldet",
          "%{recipient} erhält keine E-Mails mehr von %{stream}.",
          "Sie können diese Seite schließen."},
         {"Link ungültig", "Dieser Link funktioniert nicht",
          "Dieser Abmeldelink ist ungültig oder abgelaufen. Verwenden Sie den Link aus einer neueren "
          "Nachricht oder wenden Sie sich an den Absender.", ""},
         {"Bitte später erneut versuchen", "Ihre Anfrage wurde nicht gespeichert",
          "Die Abmeldung konnte gerade nicht gespeichert werden. Bitte versuchen Sie es in einigen "
          "Minuten erneut.", ""}},
        "Abmelden",
    },
    {   /* es */
        {{"Cancelar suscripción", "¿Cancelar la suscripción a estos correos?",
          "Pulse el botón para dejar de recibir correos de %{stream} en %{recipient}.",
          "No cambia nada hasta que pulse el botón. Si llegó aquí por error, simplemente cierre esta página."},
         {"Suscripción cancelada", "Ha cancelado su suscripción",
          "%{recipient} ya no recibirá correos de %{stream}.",
          "Puede cerrar esta página."},
         {"Enlace no válido", "Este enlace no funciona",
          "Este enlace para cancelar la suscripción no es válido o ha caducado. Use el enlace de un "
          "mensaje más reciente o póngase en contacto con el remitente.", ""},
         {"Inténtelo más tarde", "Su solicitud no se ha registrado",
          "No se ha podido registrar la cancelación en este momento. Vuelva a intentarlo dentro de "
          "unos minutos.", ""}},
        "Cancelar suscripción",
    },
};

/* unsubd_text_get - one page's words */
const UNSUBD_TEXT *unsubd_text_get(int lang, enum unsubd_page_kind kind)
{
    if (lang < 0 || lang >= UNSUBD_NLANGS)
        lang = 0;
    if ((int) kind < 0 || kind >= UNSUBD_PAGE_NKINDS)
        kind = UNSUBD_PAGE_INVALID;
    return &unsubd_texts[lang].page[kind];
}

/* unsubd_text_button - the button's label */
const char *unsubd_text_button(int lang)
{
    return unsubd_texts[lang < 0 || lang >= UNSUBD_NLANGS ? 0 : lang].button;
}
